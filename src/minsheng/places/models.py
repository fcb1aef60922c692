"""Places (地点): the city → town/street (镇/街道) → village/community (村/社区) tree."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Codes are stable identifiers; dots show the tree ("danghu.shuidongdai").
code_validator = RegexValidator(r"^[a-z0-9][a-z0-9._-]*$", _("Lower-case letters, digits, '.', '_' and '-'."))


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

    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
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


class NamedFeature(models.Model):
    """A named road or landmark (道路、地标) for finding a place from an address."""

    class Kind(models.TextChoices):
        ROAD = "road", _("Road")
        LANDMARK = "landmark", _("Landmark")

    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    geometry = models.JSONField(_("geometry"))
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.SET_NULL, related_name="features"
    )
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        # No unique name: two towns may each have a 人民路.
        verbose_name = _("named road or landmark")
        verbose_name_plural = _("named roads and landmarks")

    def __str__(self) -> str:
        return self.name
