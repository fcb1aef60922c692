"""Joint groups (一键组群), their members' parts, the shared thread, and requests to change
the group.

A group belongs to one case. While it is open the case has exactly one lead unit (which
holds the case and writes the consolidated feedback) and one or more assisting units, each
with its own task text and its own limits. A case has at most one open group; a closed or
dissolved group stays on record, and a reopened case may form a new one.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from minsheng.core import clock


class GroupState(models.TextChoices):
    OPEN = "open", pgettext_lazy("joint group", "Open")
    CLOSED = "closed", _("Closed with the case")
    DISSOLVED = "dissolved", _("Dissolved")


class MemberRole(models.TextChoices):
    LEAD = "lead", _("Lead unit")  # 牵头单位
    ASSIST = "assist", _("Assisting unit")  # 协办单位


class PartState(models.TextChoices):
    """Where one member's part stands (derived from its time stamps, never stored)."""

    WAITING = "waiting", _("Waiting for signature")
    SIGNED = "signed", _("Signed, working")
    DONE = "done", _("Done")
    WAIVED = "waived", _("Waived by the dispatcher")
    REMOVED = "removed", _("Removed from the group")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the dispatcher")
    DONE = "done", _("Group changed")
    DECLINED = "declined", _("Declined")


class JointGroup(models.Model):
    """一键组群: formed by a dispatcher in one action. ``formed_unit`` is the dispatching
    level that formed it (the city centre or a sub-centre): it manages the group (waives
    parts, changes or dissolves the group, answers change requests)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="joint_groups")
    lead_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    formed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    formed_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    formed_at = models.DateTimeField()
    note = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=GroupState.choices, default=GroupState.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-formed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(state="open"), name="group_one_open_per_case"
            ),
            models.CheckConstraint(name="group_state_valid", condition=models.Q(state__in=GroupState.values)),
        ]
        indexes = [models.Index(fields=["formed_at"]), models.Index(fields=["state", "case"])]
        verbose_name = _("joint group")
        verbose_name_plural = _("joint groups")

    def __str__(self) -> str:
        return f"{self.case_id} group {self.pk} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state == GroupState.OPEN


class GroupMember(models.Model):
    """One unit's part in a group: its task, its signature and completion, or the
    dispatcher's waiver. An assisting member's limits are ``CaseClock`` rows held against
    its unit (``member_sign``, ``member_handle``), so the clock worker warns and escalates
    them like any other clock. The lead's limits are the case's own (sign, feedback):
    the lead holds the case."""

    group = models.ForeignKey(JointGroup, on_delete=models.CASCADE, related_name="members")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=8, choices=MemberRole.choices)
    task = models.TextField()
    joined_at = models.DateTimeField()
    # When the part is due to be done (the handle clock's limit; for the lead, the case's
    # feedback limit when the group was formed). Kept here for statistics.
    due_at = models.DateTimeField()
    sign_clock = models.ForeignKey(
        "cases.CaseClock", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handle_clock = models.ForeignKey(
        "cases.CaseClock", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.TextField(blank=True)
    waived_at = models.DateTimeField(null=True, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    waive_reason = models.TextField(blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    remove_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["group", "-role", "joined_at", "id"]  # lead first ("lead" > "assist")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "unit"],
                condition=models.Q(removed_at__isnull=True),
                name="group_member_once",
            ),
            models.CheckConstraint(
                name="group_member_role_valid", condition=models.Q(role__in=MemberRole.values)
            ),
        ]
        indexes = [models.Index(fields=["unit", "removed_at"])]

    def __str__(self) -> str:
        return f"{self.group_id}:{self.unit_id} ({self.role})"

    @property
    def is_lead(self) -> bool:
        return self.role == MemberRole.LEAD

    @property
    def active(self) -> bool:
        return self.removed_at is None

    @property
    def settled(self) -> bool:
        """Done or waived: nothing more is owed on this part."""
        return self.done_at is not None or self.waived_at is not None

    @property
    def state(self) -> str:
        if self.removed_at is not None:
            return PartState.REMOVED
        if self.waived_at is not None:
            return PartState.WAIVED
        if self.done_at is not None:
            return PartState.DONE
        if self.signed_at is not None:
            return PartState.SIGNED
        return PartState.WAITING

    def get_state_display(self) -> str:
        return str(PartState(self.state).label)

    @property
    def next_due(self) -> dt.datetime:
        """What the unit must do next by when: sign (its sign clock), then finish."""
        if self.signed_at is None and self.sign_clock is not None:
            return self.sign_clock.due_at
        return self.due_at

    @property
    def late(self) -> bool:
        """Done after its limit, or still owed past it."""
        if self.waived_at is not None or self.removed_at is not None:
            return False
        return (self.done_at or clock.now()) > self.due_at


class GroupMessage(models.Model):
    """The shared thread (群聊): every member unit and the dispatcher read it on the case
    page; each message is also an entry of the case's log."""

    group = models.ForeignKey(JointGroup, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author_label = models.CharField(max_length=64, blank=True)
    unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.group_id} message {self.pk}"


def _photo_path(instance: GroupPhoto, filename: str) -> str:
    # A random name: it says nothing about the case or the person, and is never served by
    # name (only through the view that checks who may see the case).
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    at = clock.now()
    return f"groups/{at:%Y/%m}/{uuid.uuid4().hex}.{extension}"


class GroupPhoto(models.Model):
    """A photo in a thread message (decoded by Pillow before it is stored)."""

    message = models.ForeignKey(GroupMessage, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to=_photo_path, max_length=200)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.image.name


class ChangeRequest(models.Model):
    """A member cannot return a joint case; it asks the dispatcher to change the group
    (add a unit, take it out, ...), and the dispatcher changes the group or declines."""

    group = models.ForeignKey(JointGroup, on_delete=models.CASCADE, related_name="change_requests")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "unit"],
                condition=models.Q(status="pending"),
                name="group_change_one_pending_per_unit",
            ),
            models.CheckConstraint(
                name="group_change_status_valid", condition=models.Q(status__in=RequestStatus.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_id} change request {self.pk} ({self.status})"
