from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """The background worker; installed for its ``worker`` command (no models)."""

    name = "minsheng.worker"
    label = "worker"
