from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "minsheng.cases"
    label = "cases"

    def ready(self) -> None:
        from minsheng.core.holidays import on_schedule_change

        from . import clocks

        # A new holiday schedule recounts the running resolve limits it touches.
        on_schedule_change(clocks.follow_calendar)
