"""Calls from the city's telephone system (来电) and the callbacks owed to callers nobody
answered (漏接回拨).

The telephone system (CTI) tells Minsheng about each call through signed events (ring,
answer, hang-up; ``api.py``); every event is kept once, by its id, so a repeated delivery
changes nothing. A call is ringing, then answered and ended; or it ends unanswered (missed)
or is cut off after it was answered (dropped). A missed or dropped call from a number that
can be called back opens a callback task with its own clock; further missed calls from that
number while the task is open join it.

The caller's number is personal data, kept as ``cases`` keeps a requester's phone: in
national digits (``core.phones.normalize_phone``), encrypted at rest and found through its
keyed hash (``core.fields``), shown masked in lists; the full number is shown to the roles
who call back, and each time it is, the view is written to ``CallerNumberAccess``. The city's
retention period (``MINSHENG_PERSONAL_DATA_DAYS``) erases it from calls that ended, and
callbacks that closed, longer ago than that (``retention.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from minsheng.core import clock
from minsheng.core.fields import BlindIndexField, EncryptedTextField


class CallState(models.TextChoices):
    # Labels with their own context: "Ended" or "Answered" mean other things elsewhere.
    RINGING = "ringing", pgettext_lazy("call state", "Ringing")  # 振铃中
    ANSWERED = "answered", pgettext_lazy("call state", "In conversation")  # 通话中
    ENDED = "ended", pgettext_lazy("call state", "Ended")  # 已挂机
    MISSED = "missed", pgettext_lazy("call state", "Missed")  # 未接
    DROPPED = "dropped", pgettext_lazy("call state", "Dropped")  # 掉线


# A call in one of these states is over: later events only fill in what was missing.
CALL_OVER = frozenset({CallState.ENDED, CallState.MISSED, CallState.DROPPED})


class EventKind(models.TextChoices):
    RING = "ring", _("Ring")
    ANSWER = "answer", _("Answer")
    HANGUP = "hangup", _("Hang-up")


class CallbackState(models.TextChoices):
    OPEN = "open", pgettext_lazy("callback state", "To call back")  # 待回拨
    DONE = "done", pgettext_lazy("callback state", "Called back")  # 已回拨
    UNREACHABLE = "unreachable", pgettext_lazy("callback state", "Unreachable")  # 无法接通


class CallbackTask(models.Model):
    """漏接回拨: a caller the centre owes a call. Its clock (``due_at``) starts when the
    first call was missed; an attempt that does not reach the caller waits a set interval
    before the next (``next_attempt_at``), and after the set number of attempts the task
    closes as unreachable. ``phone`` is encrypted at rest and found through ``phone_hash``;
    the retention rule empties both once the task has been closed for the city's period
    (``number_erased_at``)."""

    phone = EncryptedTextField(_("phone"), max_length=20)
    phone_hash = BlindIndexField(of="phone", db_default="")
    state = models.CharField(
        _("state"), max_length=16, choices=CallbackState.choices, default=CallbackState.OPEN
    )
    missed_at = models.DateTimeField(_("missed at"))
    due_at = models.DateTimeField(_("call back by"))
    missed_count = models.PositiveIntegerField(_("missed calls"), default=1)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(default=clock.now)
    number_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        indexes = [
            # The worker's scan: open tasks whose clock has passed and nobody was warned of.
            models.Index(
                fields=["due_at"],
                name="callback_unwarned_due",
                condition=models.Q(state="open", warned_at__isnull=True),
            ),
            # The retention rule's scan: closed tasks that still hold a number.
            models.Index(
                fields=["closed_at"],
                name="callback_number_kept",
                condition=~models.Q(state="open") & ~models.Q(phone_hash=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="callback_state_valid", condition=models.Q(state__in=CallbackState.values)
            ),
            # One open task per number (by its keyed hash): a caller who rings again joins it.
            models.UniqueConstraint(
                fields=["phone_hash"], name="callback_one_open_per_phone", condition=models.Q(state="open")
            ),
        ]

    def __str__(self) -> str:
        return f"callback {self.pk} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state == CallbackState.OPEN


class Call(models.Model):
    """One call as the telephone system reported it. ``call_id`` is the telephone system's
    own id; ``case`` the case registered from it (the first one, when several were).
    ``caller`` is encrypted at rest and found through ``caller_hash``; the retention rule
    empties both once the call has been over for the city's period (``number_erased_at``)."""

    call_id = models.CharField(_("call id"), max_length=64, unique=True)
    caller = EncryptedTextField(_("caller number"), max_length=20, blank=True)
    caller_hash = BlindIndexField(of="caller", db_default="")
    seat = models.CharField(_("seat"), max_length=32, blank=True)
    agent = models.CharField(_("agent"), max_length=150, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=CallState.choices)
    rang_at = models.DateTimeField(_("rang at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    callback = models.ForeignKey(
        CallbackTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    number_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            # The seat's question, polled every few seconds: what rings or talks at my seat.
            models.Index(
                fields=["agent", "seat"],
                name="call_in_progress",
                condition=models.Q(state__in=["ringing", "answered"]),
            ),
            # The retention rule's scan: calls that still hold a number, by when they ended.
            models.Index(fields=["ended_at"], name="call_number_kept", condition=~models.Q(caller_hash="")),
        ]
        constraints = [
            models.CheckConstraint(name="call_state_valid", condition=models.Q(state__in=CallState.values)),
        ]

    def __str__(self) -> str:
        return self.call_id

    @property
    def is_over(self) -> bool:
        return self.state in CALL_OVER

    @property
    def talk_seconds(self) -> int | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(0, int((self.ended_at - self.answered_at).total_seconds()))


class CallEvent(models.Model):
    """Each event the telephone system sent, once: ``event_id`` is its own id, and a
    second delivery of it is recognised and changes nothing (replay-safe)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    at = models.DateTimeField()
    received_at = models.DateTimeField(default=clock.now)
    # What the event did: "" when it moved the call, else why it changed nothing (e.g. an
    # answer that arrived after the hang-up).
    ignored = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                name="call_event_kind_valid", condition=models.Q(kind__in=EventKind.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class CallerNumberAccess(models.Model):
    """Every time a person was shown a caller's full number outside a case (the callback
    queue, the intake form pre-filled from a call): ``cases.PersonalDataAccess`` for calls."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="+")
    via = models.CharField(max_length=16)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("caller number access")
        verbose_name_plural = _("caller number accesses")

    def __str__(self) -> str:
        return f"{self.user_id} saw the number of {self.call_id}"
