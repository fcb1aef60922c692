"""The case kernel (工单内核): the one way to change a case, and the one writer of its log.

Every change to a case, from any app, opens here::

    with kernel.change(actor, case_id, "sign", expected_version=version) as ch:
        ch.meet_clock(ClockName.SIGN)
        return ch.commit(note=note)  # state, version, event, after-action hooks

:func:`change` opens one transaction, locks the case row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite transactions begin ``IMMEDIATE``) and checks, in order:

1. visibility — a case the actor may not see is not found (404);
2. the actor's right (403) and 3. the state (409) — for the case's own actions from
   ``scoping.may_act`` and the ``TRANSITIONS`` table; a part passes ``check``, which makes
   its own checks in its own order (``groups``: an open group, a member, its part's state);
4. the guards parts registered (409: an open joint group refuses a return);
5. the version the caller saw (409).

Nothing is written before the checks pass, and any refusal later rolls back everything.
The handle, :class:`Change`, appends events, bumps the version, starts, meets and stops
clocks (through :mod:`.clocks`) and writes the outbox (``notify``'s ``enqueue``).

:func:`record` appends an entry that changes neither the case's state nor its version (the
clock watch's warnings and breaches, a sensor's alarm): it takes no lock, so the worker's
claimed clocks and a person's action never wait on each other, and a warning never turns a
person's open form stale.

Only this module creates ``CaseEvent`` rows, and only of kinds in the registry's one list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.core import clock
from minsheng.core.text import NUL, clean_text
from minsheng.notify.actions import enqueue

from . import clocks, registry
from .errors import Conflict, Forbidden, NotFound
from .models import Case, CaseClock, CaseEvent
from .scoping import can_see, may_act
from .states import EXTENSION_STATES, TRANSITIONS


def lock_case(case_id: int) -> Case | None:
    """The case, its row locked until the transaction ends."""
    # Lock only the case row: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer joins that select_related makes for the optional foreign keys.
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("matter", "owner_unit", "place", "town")
        .filter(pk=case_id)
        .first()
    )


def sees(actor: Actor, case: Case, action: str) -> bool:
    """Who may open a change to a case: the system, and whoever may see it. The requester
    sees no case but passes here for the case's own actions (the right check then lets
    them only rate)."""
    return actor.is_system or (actor.is_requester and action in TRANSITIONS) or can_see(actor, case)


def _append(
    case: Case,
    kind: str,
    at: dt.datetime,
    *,
    user: Any,
    label: str,
    unit: Any,
    from_state: str,
    note: str,
    data: dict[str, Any] | None,
) -> CaseEvent:
    if not registry.is_event_kind(kind):
        raise LookupError(f"{kind!r} is not a registered event kind (cases.registry.register_event_kinds)")
    return CaseEvent.objects.create(
        case=case,
        at=at,
        action=kind,
        actor=user,
        actor_label=label,
        actor_unit=unit,
        from_state=from_state,
        to_state=case.state,
        # The one rule for control characters, for every part's notes (the actions refuse a
        # NUL naming the field before they get here; one that slipped through is dropped).
        note=clean_text(note.replace(NUL, "")),
        data=data or {},
    )


class Change:
    """An open change to one case whose row the transaction holds. ``action`` names the
    change (a case action of ``TRANSITIONS``, or a part's own) and is the kind of the event
    :meth:`event` appends unless told another; ``at`` is the change's time, ``from_state``
    the state it found the case in, ``checked`` what the opener's ``check`` answered."""

    def __init__(self, case: Case, actor: Actor, action: str, at: dt.datetime | None = None):
        self.case = case
        self.actor = actor
        self.action = action
        self.at = at or clock.now()
        self.from_state = case.state
        self.checked: Any = None

    # --- the log -----------------------------------------------------------------------

    def event(
        self,
        kind: str | None = None,
        *,
        note: str = "",
        data: dict[str, Any] | None = None,
        from_state: str | None = None,
    ) -> CaseEvent:
        """Append an entry to the case's log (``from_state`` defaults to the state now)."""
        actor = self.actor
        return _append(
            self.case,
            kind or self.action,
            self.at,
            user=actor.user,
            label=actor.label,
            unit=actor.unit,
            from_state=self.case.state if from_state is None else from_state,
            note=note,
            data=data,
        )

    def bump(self) -> None:
        """A new version: open forms that saw the old one are refused (409)."""
        case = self.case
        case.version += 1
        case.updated_at = self.at
        case.save(update_fields=["version", "updated_at"])

    def commit(self, *, note: str = "", data: dict[str, Any] | None = None) -> Case:
        """The end of a case action: the state ``TRANSITIONS`` names, the saved row with a
        new version, the event, and the after-action hooks parts registered."""
        case = self.case
        _allowed, to_state = TRANSITIONS[self.action]
        if to_state is not None:
            case.state = to_state
        if case.extension_requested_days and case.state not in EXTENSION_STATES:
            # A request for more time is the holding unit's, for the work it is doing: it
            # lapses when the case leaves that unit or that work, never passing to another.
            data = {**(data or {}), "extension_lapsed": case.extension_requested_days}
            case.extension_requested_days = None
            case.extension_reason = ""
        case.version += 1
        case.updated_at = self.at
        case.save()
        self.event(note=note, data=data, from_state=self.from_state)
        registry.after_action(self.actor, case, self.action, self.at)
        return case

    def reload(self) -> Case:
        """The case as a change nested in this one left it; this change's time moves on."""
        self.case = Case.objects.select_related("matter", "owner_unit").get(pk=self.case.pk)
        self.at = clock.now()
        return self.case

    # --- clocks (时限) ------------------------------------------------------------------

    def start_clock(self, name: str, *, unit: Any = None, due: dt.datetime | None = None) -> CaseClock:
        return clocks.start(self.case, name, self.at, unit=unit, due=due)

    def start_clocks(self, *names: str) -> list[CaseClock]:
        """Several clocks at once, each held by the unit holding the case (one INSERT)."""
        return clocks.start_many(self.case, names, self.at)

    def meet_clock(self, name: str) -> CaseClock | None:
        return clocks.meet(self.case, name, self.at)

    def stop_clocks(self, *names: str) -> None:
        clocks.stop(self.case, tuple(names), self.at)

    def meet_clocks_by_id(self, ids: Iterable[int | None]) -> None:
        clocks.meet_by_id(self.case, ids, self.at)

    def stop_clocks_by_id(self, ids: Iterable[int | None]) -> None:
        clocks.stop_by_id(self.case, ids, self.at)

    # --- the outbox ---------------------------------------------------------------------

    def notify(self, kind: str, **audience: Any) -> Any:
        """A message about this case (``unit=``, ``user=`` or ``phone=``, ``context=``),
        sent once the transaction commits."""
        return enqueue(kind, case=self.case, **audience)


@contextmanager
def change(
    actor: Actor,
    case_id: int,
    action: str,
    *,
    expected_version: int | None = None,
    visible: Callable[[Actor, Case], bool] | None = None,
    check: Callable[[Change], Any] | None = None,
) -> Iterator[Change]:
    """Open a change to a case: one transaction, the row locked, the checks passed (see the
    module's docstring). ``visible`` replaces the visibility rule (:func:`sees`); ``check``
    is a part's right and state checks, and its answer is the handle's ``checked``."""
    with transaction.atomic():
        case = lock_case(case_id)
        if case is None or not (visible(actor, case) if visible else sees(actor, case, action)):
            raise NotFound(_("No such case."))
        if action in TRANSITIONS:
            if not may_act(actor, action, case):
                raise Forbidden(_("You may not do this on this case."))
            allowed_from, _to = TRANSITIONS[action]
            if case.state not in allowed_from:
                raise Conflict(
                    _("This case is %(state)s; that action is not possible now.")
                    % {"state": case.get_state_display()},
                    state=case.state,
                    version=case.version,
                )
        ch = Change(case, actor, action)
        if check is not None:
            ch.checked = check(ch)
        refused = registry.refusal(case, action)
        if refused:
            raise Conflict(refused, state=case.state, version=case.version)
        if expected_version is not None and expected_version != case.version:
            raise Conflict(
                _("Someone else changed this case meanwhile; reload it and try again."),
                state=case.state,
                version=case.version,
            )
        ch.at = clock.now()
        yield ch


def begin(case: Case, actor: Actor, action: str, at: dt.datetime | None = None) -> Change:
    """A change to a case the caller's transaction already holds: one it has just made
    (intake), or locked with :func:`lock_case` (the original a duplicate merges into)."""
    return Change(case, actor, action, at)


def record(
    case: Case,
    kind: str,
    at: dt.datetime,
    *,
    actor: Actor | None = None,
    label: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append an entry that changes neither the case's state nor its version, by an actor
    or under a label (a device, the clock watch); no lock is taken."""
    return _append(
        case,
        kind,
        at,
        user=actor.user if actor else None,
        label=(actor.label if actor else label)[:64],
        unit=actor.unit if actor else None,
        from_state=case.state,
        note=note,
        data=data,
    )
