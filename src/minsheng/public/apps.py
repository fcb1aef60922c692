from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "minsheng.public"
    label = "public"
    verbose_name = _("Public reports and partners")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .queries import partner_held_about

        registry.register_personal_data("reporting_partner", partner_held_about)
