"""Early warning (预警): the city's rules per matter, the detector's place in the case list,
and the governance topics (专题) warnings become, with their linked cases."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .detect import Params


class WarningRule(models.Model):
    """How the detector judges one matter (or, with no matter, every matter without a rule
    of its own): the window, the least count, how unlikely the count must be under the
    usual level, and the topic's owner and deadline."""

    matter = models.OneToOneField(
        "catalog.Matter",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="warning_rule",
        help_text=_("Empty: the city's default for matters without a rule."),
    )
    window_minutes = models.PositiveIntegerField(
        _("window (minutes)"), default=60, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    min_count = models.PositiveIntegerField(
        _("least number of reports"), default=3, validators=[MinValueValidator(2)]
    )
    max_chance = models.FloatField(
        _("greatest chance under the usual level"),
        default=Params.max_chance,
        validators=[MinValueValidator(1e-9), MaxValueValidator(0.5)],
        help_text=_("A warning is raised when so many reports would come this rarely at the usual level."),
    )
    weeks = models.PositiveIntegerField(
        _("weeks of history"), default=4, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    deadline_hours = models.PositiveIntegerField(_("topic deadline (hours)"), default=72)
    owner_unit = models.ForeignKey(
        "accounts.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the matter's unit, else the town's sub-centre."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warning rule")
        verbose_name_plural = _("warning rules")

    def __str__(self) -> str:
        return str(self.matter) if self.matter_id else str(_("Default"))

    @property
    def params(self) -> Params:
        return Params(
            window_minutes=self.window_minutes,
            min_count=self.min_count,
            max_chance=self.max_chance,
            weeks=self.weeks,
        )


class DetectorCursor(models.Model):
    """The last case the detector has looked at (one row): each pass reads only the cases
    after it."""

    last_case_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"after case {self.last_case_id}"


class TopicState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Topic(models.Model):
    """A governance topic (治理专题): what a warning (预警) becomes. Reports clustering at one
    place about one matter beyond their usual level; an owner unit works on the cause by a
    deadline, and every case of the cluster (and those that follow while it is open) is
    linked to it."""

    title = models.CharField(_("title"), max_length=120)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matter = models.ForeignKey("catalog.Matter", on_delete=models.PROTECT, related_name="+")
    window_minutes = models.PositiveIntegerField()
    count = models.PositiveIntegerField(_("reports in the window"))
    expected = models.FloatField(_("usual number"))
    chance = models.FloatField()
    first_report_at = models.DateTimeField()
    judged_at = models.DateTimeField(help_text="The moment the count was judged (the newest report's time).")
    raised_at = models.DateTimeField(_("raised at"))
    owner_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateTimeField(_("deadline"))
    state = models.CharField(_("state"), max_length=8, choices=TopicState.choices, default=TopicState.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=64, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-raised_at"], name="topic_state_newest"),
            models.Index(fields=["place", "matter", "state"], name="topic_key"),
        ]
        constraints = [
            models.CheckConstraint(name="topic_state_valid", condition=models.Q(state__in=TopicState.values)),
            # One open topic per place and matter: later reports join it.
            models.UniqueConstraint(
                fields=["place", "matter"], condition=models.Q(state="open"), name="topic_one_open_per_key"
            ),
        ]
        verbose_name = _("governance topic")
        verbose_name_plural = _("governance topics")

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state == TopicState.OPEN


class TopicCase(models.Model):
    """A case linked to a topic (the case's log says so: ``topic_linked``)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField()

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["topic", "case"], name="topic_case_once")]

    def __str__(self) -> str:
        return f"{self.topic_id}:{self.case_id}"
