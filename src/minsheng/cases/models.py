"""Cases (工单), their append-only event log, their clocks, and intake bookkeeping."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.core import clock
from minsheng.core.fields import BlindIndexField, EncryptedTextField

from .search import SearchGramsField
from .states import MEMBER_CLOCKS, Channel, ClockName, Rating, State


def _public_token() -> str:
    return secrets.token_urlsafe(16)


class Case(models.Model):
    """A work order (工单): one request from one person or sensor, moving through the loop.

    ``text`` is what the requester said and is never altered; everything the loop learns
    (category, place, owner) is stored beside it. ``version`` increases with every change
    so that a stale form or a concurrent action is refused with 409 instead of overwriting.
    """

    number = models.CharField(_("number"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    text = models.TextField(_("original text"))
    title = models.CharField(_("title"), max_length=80)
    matter = models.ForeignKey(
        "catalog.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    place = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    town = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Personal data (个人信息): encrypted at rest, found by phone through the keyed hash, and
    # erased once the case has been closed for the city's retention period (retention.py).
    requester_name = EncryptedTextField(_("requester name"), max_length=64, blank=True)
    requester_phone = EncryptedTextField(_("requester phone"), max_length=20, blank=True)
    requester_phone_hash = BlindIndexField(of="requester_phone", db_default="")
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    owner_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    dispatched_people = models.JSONField(default=list, blank=True)
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="dispatched_cases")
    feedback_text = models.TextField(blank=True)
    rating = models.CharField(max_length=24, choices=Rating.choices, blank=True)
    rating_note = models.TextField(blank=True)
    extension_requested_days = models.PositiveIntegerField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    supervision_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    # Why the case went where it went: category and confidence, candidates, place and how
    # it was found, duplicate candidates, and the reasons a human had to look.
    routing = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    public_token = models.CharField(max_length=32, default=_public_token, unique=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # The search's index terms (character bigrams, 分词) of the number, text and address,
    # set on every save: the case search reads them off an index (cases.search).
    search_grams = SearchGramsField(of=("number", "text", "address"))

    # Not stored: set on the case intake has just made, in its own request. No part has
    # rows of it yet (a joint group, a proposal), so the parts' guards and grants are not
    # asked about it (cases.registry), and its answer is presented from memory.
    fresh: bool = False
    # Not stored: the clocks intake started, when nothing after them changed any (a case
    # left for a dispatcher), so the answer to its maker shows them without reading them.
    made_clocks: list[CaseClock] | None = None

    class Meta:
        ordering = ["-created_at", "-id"]
        # Each list reads its page straight off an index in the order it shows (newest
        # first; a queue section: urgent first, then oldest), so a page costs the same at
        # 100,000 cases as at 1,000.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="case_newest"),
            models.Index(fields=["state", "-created_at", "-id"], name="case_state_newest"),
            models.Index(fields=["state", "-urgent", "created_at"], name="case_state_queue"),
            models.Index(fields=["owner_unit", "state", "-urgent", "created_at"], name="case_unit_queue"),
            models.Index(fields=["owner_unit", "-created_at", "-id"], name="case_unit_newest"),
            models.Index(fields=["town", "state"]),
            models.Index(fields=["matter", "state"]),
            # The duplicate search: open cases of one matter near a point.
            models.Index(
                fields=["matter", "lat", "lng"],
                name="case_open_matter_geo",
                condition=~models.Q(state="closed"),
            ),
            # The command centre's map: open cases in grid cells, read off this index alone
            # (point, state, urgent, and the owner and town a sub-centre's scope filters on).
            models.Index(
                fields=["lat", "lng", "state", "urgent", "owner_unit", "town", "id"],
                name="case_open_map",
                condition=~models.Q(state="closed"),
            ),
            # The leader's overview: the open cases by state and holding unit, counted off
            # this index alone, so the count follows the open work, not the history.
            models.Index(
                fields=["state", "owner_unit"],
                name="case_open_state_unit",
                condition=~models.Q(state="closed"),
            ),
            # The retention rule's scan: closed cases still holding personal data.
            models.Index(
                fields=["closed_at"],
                name="case_personal_data_kept",
                condition=models.Q(state="closed", personal_data_erased_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(name="case_state_valid", condition=models.Q(state__in=State.values)),
            models.CheckConstraint(name="case_channel_valid", condition=models.Q(channel__in=Channel.values)),
            models.CheckConstraint(
                name="case_rating_valid",
                condition=models.Q(rating="") | models.Q(rating__in=Rating.values),
            ),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state != State.CLOSED

    def current_clocks(self) -> list[CaseClock]:
        """The latest clock of each name (re-assignment and reopening start new ones)."""
        latest: dict[str, CaseClock] = {}
        made = self.made_clocks if self.fresh else None  # the answer to its maker (as_made)
        for c in made if made is not None else self.clocks.all():
            if c.name in MEMBER_CLOCKS:  # each joint-group member's own; see its panel
                continue
            held = latest.get(c.name)
            if held is None or (c.started_at, c.pk) > (held.started_at, held.pk):
                latest[c.name] = c
        order = list(ClockName.values)
        return sorted(latest.values(), key=lambda c: order.index(c.name))


def late_q(at: dt.datetime) -> models.Q:
    """Late (超时), in a query: met after its due time, stopped after it, or still running
    past it at ``at``. The same rule as :meth:`CaseClock.is_late` for one clock."""
    return (
        models.Q(met_at__isnull=False, met_at__gt=models.F("due_at"))
        | models.Q(met_at__isnull=True, stopped_at__isnull=False, stopped_at__gt=models.F("due_at"))
        | models.Q(met_at__isnull=True, stopped_at__isnull=True, due_at__lt=at)
    )


class ClockQuerySet(models.QuerySet["CaseClock"]):
    def running(self) -> ClockQuerySet:
        """Neither met nor stopped."""
        return self.filter(met_at__isnull=True, stopped_at__isnull=True)

    def overdue(self, at: dt.datetime | None = None) -> ClockQuerySet:
        """Overdue (超期): running and past its due time, the running part of :func:`late_q`."""
        return self.running().filter(due_at__lt=at or clock.now())


def case_overdue(at: dt.datetime | None = None) -> models.Exists:
    """For a query on cases (filter or annotate): one of the case's clocks is overdue.
    The one definition of an overdue case, for pages, the API and the search."""
    return models.Exists(CaseClock.objects.overdue(at).filter(case=models.OuterRef("pk")))


class CaseClock(models.Model):
    """One time limit a unit is held to on a case. A clock is met, stopped (the case left
    the unit before it was met, e.g. re-assigned), or still running."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks")
    name = models.CharField(max_length=16, choices=ClockName.choices)
    unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # When the worker warns: a share of the limit (the matter's warn_share, 80% by default).
    warn_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    objects = ClockQuerySet.as_manager()

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            # Running clocks only, so their size follows the open work, not the history:
            # "overdue" and "next due" on a list row (by case), "about to breach" in due order.
            models.Index(
                fields=["case", "due_at"],
                name="clock_running_case",
                condition=models.Q(met_at__isnull=True, stopped_at__isnull=True),
            ),
            models.Index(
                fields=["due_at", "case"],
                name="clock_running_due",
                condition=models.Q(met_at__isnull=True, stopped_at__isnull=True),
            ),
            # The worker's two scans stay small however many cases are open: only clocks
            # still owing a breach (or a warning) are in these partial indexes.
            models.Index(
                fields=["due_at"],
                name="clock_breach_due",
                condition=models.Q(met_at__isnull=True, stopped_at__isnull=True, breached_at__isnull=True),
            ),
            models.Index(
                fields=["warn_at"],
                name="clock_warn_due",
                condition=models.Q(met_at__isnull=True, stopped_at__isnull=True, warned_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(name="clock_name_valid", condition=models.Q(name__in=ClockName.values)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.name}"

    @property
    def running(self) -> bool:
        return self.met_at is None and self.stopped_at is None

    def is_late(self, at: dt.datetime | None = None) -> bool:
        """Met after the due time, or still running past it (see :func:`late_q`)."""
        if self.met_at is not None:
            return self.met_at > self.due_at
        if self.stopped_at is not None:
            return self.stopped_at > self.due_at
        return (at or clock.now()) > self.due_at


class CaseEvent(models.Model):
    """An entry of the case's log (事件日志). Appended in the transaction of the change it
    records; never updated (a database trigger refuses it) and never deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(max_length=64, blank=True)
    actor_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"]), models.Index(fields=["action", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class DailyCounter(models.Model):
    """Per-day sequence behind readable case numbers (MS2026112300042)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class IntakeKey(models.Model):
    """A client's ``Idempotency-Key``: a retried intake returns the case it made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="intake_key_unique")]

    def __str__(self) -> str:
        return self.key


class PersonalDataAccess(models.Model):
    """Every time a person saw a requester's full phone number, or exported what is held
    about one (查看个人信息记录). Append-only: a database trigger refuses updates (and, on
    PostgreSQL, deletes), like the case log's; administrators read it in the admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+", verbose_name=_("case"))
    field = models.CharField(_("what"), max_length=32, default="requester_phone")
    via = models.CharField(_("via"), max_length=16)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "at"]), models.Index(fields=["user", "at"])]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.field} of {self.case_id}"
