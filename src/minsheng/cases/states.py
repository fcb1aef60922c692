"""Case states and the transition table that every action obeys.

``TRANSITIONS`` maps an action to the states it may start from and the state it leaves
the case in (``None``: the state does not change). A test reads this table whole.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted, awaiting assignment")  # 受理
    ASSIGNED = "assigned", _("Assigned, awaiting sign")  # 派单
    SIGNED = "signed", _("Signed, awaiting dispatch")  # 签收
    DISPATCHED = "dispatched", _("People dispatched")  # 派遣
    HANDLING = "handling", _("Being handled")  # 办理
    FEEDBACK = "feedback", _("Feedback given, awaiting rating")  # 反馈
    RATED = "rated", _("Rated")  # 评价
    RETURNED = "returned", _("Returned, awaiting re-assignment")  # 退单
    CLOSED = "closed", _("Closed")  # 办结


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12345 hotline")
    APP = "app", _("App / web")
    GRID = "grid", _("Grid worker")
    POLICE_110 = "110", _("110 non-police transfer")
    RIDER = "rider", _("Rider")
    ENTERPRISE = "enterprise", _("Enterprise")
    SENSOR = "sensor", _("Sensor")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")  # 满意
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("Unsatisfied")  # 不满意


class ClockName(models.TextChoices):
    SIGN = "sign", _("Sign")
    DISPATCH = "dispatch", _("Dispatch")
    FEEDBACK = "feedback", _("Feedback")
    RESOLVE = "resolve", _("Resolve")
    RESPONSE = "response", _("Sensor response")
    # A joint group's (一键组群) assisting unit: its own sign and handle limits.
    MEMBER_SIGN = "member_sign", _("Group part sign")
    MEMBER_HANDLE = "member_handle", _("Group part done")


# Clocks of a joint group's members: shown per member on the group panel, not among the
# case's own limits.
MEMBER_CLOCKS = frozenset({ClockName.MEMBER_SIGN, ClockName.MEMBER_HANDLE})
OPEN_STATES = frozenset(s for s in State if s != State.CLOSED)
TERMINAL_STATES = frozenset({State.CLOSED})
# States in which a unit holds the case and is working on it.
AT_UNIT_STATES = frozenset({State.ASSIGNED, State.SIGNED, State.DISPATCHED, State.HANDLING})
DISPATCHER_QUEUE_STATES = frozenset({State.ACCEPTED, State.RETURNED})
# States in which the holding unit, having signed, may ask for (and be granted) more time.
EXTENSION_STATES = frozenset({State.SIGNED, State.DISPATCHED, State.HANDLING})

S = State
TRANSITIONS: dict[str, tuple[frozenset[State], State | None]] = {
    "assign": (frozenset({S.ACCEPTED, S.RETURNED, S.ASSIGNED, S.SIGNED}), S.ASSIGNED),
    "sign": (frozenset({S.ASSIGNED}), S.SIGNED),
    "return": (frozenset({S.ASSIGNED, S.SIGNED}), S.RETURNED),
    "dispatch": (frozenset({S.SIGNED}), S.DISPATCHED),
    "handle": (frozenset({S.DISPATCHED, S.HANDLING}), S.HANDLING),
    "feedback": (frozenset({S.DISPATCHED, S.HANDLING}), S.FEEDBACK),
    "rate": (frozenset({S.FEEDBACK}), S.RATED),
    "close": (frozenset({S.FEEDBACK, S.RATED}), S.CLOSED),
    "reopen": (frozenset({S.RATED, S.CLOSED}), S.ASSIGNED),
    "extend": (EXTENSION_STATES, None),
    "approve_extension": (EXTENSION_STATES, None),
    "supervise": (frozenset(OPEN_STATES), None),
    "merge": (frozenset(OPEN_STATES - {S.FEEDBACK, S.RATED}), S.CLOSED),
}
ACTIONS = tuple(TRANSITIONS)
