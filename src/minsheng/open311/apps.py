from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    """Open311 GeoReport v2 (开放311接口): the city's list of matters as services, requests
    taken in through the same intake as the API, their status and updates for partners'
    apps, with no requester's personal data on the way out (``docs/open311.md``)."""

    name = "minsheng.open311"
    label = "open311"
    verbose_name = _("Open311")
