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

New cases (intake, one or a batch) are made through :class:`NewCases`: a handle that keeps
each new case's row, events, clocks, outbox messages and idempotency key in memory, with
:class:`Fresh` changes offering what :class:`Change` offers, and writes each kind of row with
one INSERT for the whole set (:meth:`NewCases.write`), inside the caller's transaction. The
parts' on-assign and after-action hooks run once the rows are written.

Only this module creates ``CaseEvent`` rows, and only of kinds in the registry's one list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, router, transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.core import clock
from minsheng.core.text import NUL, clean_text
from minsheng.notify.actions import enqueue, enqueue_many, message

from . import clocks, registry
from .errors import Conflict, Forbidden, NotFound
from .models import Case, CaseClock, CaseEvent, IntakeKey
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


def _event(
    case: Case,
    kind: str,
    at: dt.datetime,
    *,
    actor: Actor | None,
    label: str = "",
    from_state: str,
    note: str,
    data: dict[str, Any] | None,
) -> CaseEvent:
    """An entry of the case's log, not yet written; only of a registered kind. By an actor,
    or under a label (a device, the clock watch)."""
    if not registry.is_event_kind(kind):
        raise LookupError(f"{kind!r} is not a registered event kind (cases.registry.register_event_kinds)")
    return CaseEvent(
        case=case,
        at=at,
        action=kind,
        actor=actor.user if actor else None,
        actor_label=(actor.label if actor else label)[:64],
        actor_unit=actor.unit if actor else None,
        from_state=from_state,
        to_state=case.state,
        # The one rule for control characters, for every part's notes (the actions refuse a
        # NUL naming the field before they get here; one that slipped through is dropped).
        note=clean_text(note.replace(NUL, "")),
        data=data or {},
    )


class _Opened:
    """What a change to one case knows (its case, actor, action and time), and its log
    entries as :class:`Change` writes them and :class:`Fresh` keeps them."""

    case: Case
    actor: Actor
    action: str
    at: dt.datetime

    def _entry(
        self, kind: str | None, note: str, data: dict[str, Any] | None, from_state: str | None
    ) -> CaseEvent:
        return _event(
            self.case,
            kind or self.action,
            self.at,
            actor=self.actor,
            from_state=self.case.state if from_state is None else from_state,
            note=note,
            data=data,
        )


class Change(_Opened):
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
        made = self._entry(kind, note, data, from_state)
        made.save(force_insert=True)
        return made

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

    def hand_clocks(self, names: Iterable[str], unit: Any) -> None:
        """The running clocks of these names are now ``unit``'s to meet."""
        clocks.hand_over(self.case, tuple(names), unit)

    def on_assign(self, unit: Any) -> None:
        """The parts' on-assign hooks (the case reached ``unit``)."""
        registry.on_assign(self.case, unit, self.at)

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
    made = _event(case, kind, at, actor=actor, label=label, from_state=case.state, note=note, data=data)
    made.save(force_insert=True)
    return made


# --- new cases ---------------------------------------------------------------------------


class NewCases:
    """New cases made together (intake: one, or a batch), kept in memory until
    :meth:`write` writes each kind of row (cases, events, clocks, outbox messages,
    idempotency keys) with one INSERT for all of them. :meth:`begin` opens a :class:`Fresh`
    change to one of them. ``dues`` keeps the due times worked out for the set (one count of
    working days per matter and start, not one per case)."""

    def __init__(self, at: dt.datetime):
        self.at = at
        self.cases: list[Case] = []
        self.events: list[CaseEvent] = []
        self.clocks: dict[int, list[CaseClock]] = {}  # by id() of the case object
        self.messages: list[Any] = []
        self.keys: list[IntakeKey] = []
        self.later: list[Callable[[], None]] = []  # the parts' hooks, once the rows exist
        self.dues: clocks.Dues = {}

    def add(self, case: Case) -> None:
        """A new case (with its number, state and decision), written by :meth:`write`."""
        case.fresh = True
        self.cases.append(case)
        self.clocks[id(case)] = []

    def begin(self, case: Case, actor: Actor, action: str) -> Fresh:
        return Fresh(self, case, actor, action, self.at)

    def key(self, case: Case, user: Any, key: str) -> None:
        """The client's ``Idempotency-Key`` for the case."""
        self.keys.append(IntakeKey(user=user, key=key, case=case, created_at=self.at))

    def clocks_of(self, case: Case) -> list[CaseClock]:
        return self.clocks[id(case)]

    def write(self, cases_written: Callable[[], None] | None = None) -> None:
        """Write every row, one INSERT per kind, in the caller's transaction;
        ``cases_written`` runs between the cases' INSERT (their ids now known) and the
        others'. Then the parts' hooks run, in the order the changes asked for them."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("NewCases.write() must run inside the intake's transaction")
        insert_rows(self.cases)
        if cases_written is not None:
            cases_written()
        insert_rows(self.events)
        insert_rows([c for case in self.cases for c in self.clocks[id(case)]])
        if self.messages:
            enqueue_many(self.messages)
        insert_rows(self.keys)
        for hook in self.later:
            hook()


def insert_rows(objs: list[Any]) -> None:
    """New rows of one model written with ``INSERT … RETURNING``, their ids set on them:
    each value prepared as ``bulk_create`` prepares it (``pre_save``, ``get_db_prep_save``:
    the encrypted fields, their blind indexes, JSON, times), without the ORM's compile of
    each value, which was half the CPU of writing a batch. No signals, as with
    ``bulk_create``. As many rows a statement as the database takes values."""
    if not objs:
        return
    db = connections[router.db_for_write(type(objs[0]))]
    opts = type(objs[0])._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        rows.append([f.get_db_prep_save(f.pre_save(obj, True), connection=db) for f in fields])
    qn = db.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    head = f"INSERT INTO {qn(opts.db_table)} ({columns}) VALUES "  # noqa: S608 (the models' own names)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {qn(opts.pk.column)}"
    per = max(1, (db.features.max_query_params or 65_535) // len(fields))
    with db.cursor() as cur:
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            cur.execute(head + ", ".join([one] * len(chunk)) + tail, [v for row in chunk for v in row])
            for obj, (pk,) in zip(objs[start : start + per], cur.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = db.alias


class Fresh(_Opened):
    """A change to a case :class:`NewCases` is making, before it is written: what a
    :class:`Change` does to a case (event, clocks, outbox, commit), kept in memory and
    written with the other new cases' rows. The parts' hooks run once it is written; a new
    case has no part's rows, so only hooks registered for fresh cases are asked
    (``registry.after_action``)."""

    def __init__(self, batch: NewCases, case: Case, actor: Actor, action: str, at: dt.datetime):
        self.batch = batch
        self.case = case
        self.actor = actor
        self.action = action
        self.at = at
        self.from_state = case.state

    def event(
        self,
        kind: str | None = None,
        *,
        note: str = "",
        data: dict[str, Any] | None = None,
        from_state: str | None = None,
    ) -> CaseEvent:
        made = self._entry(kind, note, data, from_state)
        self.batch.events.append(made)
        return made

    def commit(self, *, note: str = "", data: dict[str, Any] | None = None) -> Case:
        """As :meth:`Change.commit`: the state ``TRANSITIONS`` names, a new version, the
        event; the after-action hooks once written."""
        case = self.case
        _allowed, to_state = TRANSITIONS[self.action]
        if to_state is not None:
            case.state = to_state
        case.version += 1
        case.updated_at = self.at
        self.event(note=note, data=data, from_state=self.from_state)
        actor, action, at = self.actor, self.action, self.at
        self.batch.later.append(lambda: registry.after_action(actor, case, action, at))
        return case

    def start_clock(self, name: str, *, unit: Any = None, due: dt.datetime | None = None) -> CaseClock:
        (made,) = clocks.build(self.case, [name], self.at, self.batch.dues)
        if unit is not None:
            made.unit = unit
        if due is not None:
            made.due_at, made.warn_at = due, clocks.warn_time(self.case, self.at, due)
        self.batch.clocks_of(self.case).append(made)
        return made

    def start_clocks(self, *names: str) -> list[CaseClock]:
        made = clocks.build(self.case, names, self.at, self.batch.dues)
        self.batch.clocks_of(self.case).extend(made)
        return made

    def stop_clocks(self, *names: str) -> None:
        for c in self.batch.clocks_of(self.case):
            if c.name in names and c.running:
                c.stopped_at = self.at

    def hand_clocks(self, names: Iterable[str], unit: Any) -> None:
        wanted = set(names)
        for c in self.batch.clocks_of(self.case):
            if c.name in wanted and c.running:
                c.unit = unit

    def on_assign(self, unit: Any) -> None:
        case, at = self.case, self.at
        self.batch.later.append(lambda: registry.on_assign(case, unit, at))

    def notify(self, kind: str, **audience: Any) -> Any:
        made = message(kind, case=self.case, **audience)
        self.batch.messages.append(made)
        return made
