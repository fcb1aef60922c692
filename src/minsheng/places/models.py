"""Places (地点): the city → town/street (镇/街道) → village/community (村/社区) tree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    CITY = "city", _("City")
    TOWN = "town", _("Town")
    STREET = "street", _("Street")
    VILLAGE = "village", _("Village")
    COMMUNITY = "community", _("Community")


TOWN_KINDS = (PlaceKind.TOWN, PlaceKind.STREET)
GRASSROOTS_KINDS = (PlaceKind.VILLAGE, PlaceKind.COMMUNITY)


class Place(models.Model):
    """A node of the territory (块). ``boundary`` is a GeoJSON Polygon in WGS-84."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=PlaceKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    center_lat = models.FloatField(null=True, blank=True)
    center_lng = models.FloatField(null=True, blank=True)
    boundary = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("place")
        verbose_name_plural = _("places")

    def __str__(self) -> str:
        return self.name

    @property
    def town(self) -> Place | None:
        """The town/street this place belongs to (itself for a town)."""
        node: Place | None = self
        while node is not None and node.kind not in TOWN_KINDS:
            node = node.parent
        return node

    def full_name(self) -> str:
        town = self.town
        if town is None or town.pk == self.pk:
            return self.name
        return f"{town.name}{self.name}"
