from django.apps import AppConfig


class CommandConfig(AppConfig):
    """The command centre's screen (指挥中心大屏): the city, a town or a village on one page."""

    name = "minsheng.command"
    label = "command"

    def ready(self) -> None:
        from . import sources

        sources.register_builtin()
