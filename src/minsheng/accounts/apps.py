from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "minsheng.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save

        from .actions import revoke_on_password_change

        # A new password revokes the user's API tokens (Django has no password-changed signal).
        post_save.connect(
            revoke_on_password_change, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.tokens"
        )
