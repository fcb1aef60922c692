from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "minsheng.cases"
    label = "cases"
