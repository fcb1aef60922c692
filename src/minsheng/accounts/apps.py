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
        # Signing in: the record of each event, the session's clocks, and whether it needs a code.
        from django.contrib.auth.signals import user_logged_in

        from . import second_factor, sessions, signins

        signins.connect()
        user_logged_in.connect(sessions.started, dispatch_uid="accounts.sessions")
        user_logged_in.connect(second_factor.started, dispatch_uid="accounts.second_factor")
