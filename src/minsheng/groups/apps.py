from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    """One-key joint groups (一键组群): a lead unit and assisting units work one hard case
    together, with their own tasks and limits and a shared thread, instead of passing it
    back and forth."""

    name = "minsheng.groups"
    label = "groups"
    verbose_name = _("Joint groups")
