from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "minsheng.accounts"
    label = "accounts"
