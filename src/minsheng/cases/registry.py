"""Where the parts built on cases plug in (插件登记). ``minsheng.cases`` imports none of them:
each part fills these registries from its ``AppConfig.ready()``, and the case kernel, the
scoping rule and the named actions call what is registered.

* **event kinds** — the one list of what may stand in a case's log, with the words the
  timeline shows. The case's own kinds are here from the start; a part registers its own
  (``groups``: ``group_formed`` …). The kernel refuses to write a kind nobody registered.
* **guards** — a part's say over case actions: the actions it may refuse, and why it
  refuses them now (an open joint group refuses a return). Checked by the kernel after the
  state and before the version; :func:`refusals` also hides the actions on the pages.
* **grants** — an extra right to take a case action (the lead unit of an open joint group
  may close it); consulted by ``scoping.may_act``.
* **visibility** — extra cases a unit sees (the cases its joint groups work on); each gives
  a subquery of case ids for a set of unit ids, added by ``scoping.visible_cases``.
* **after-action hooks** — called in the transaction of every case action (``Change.commit``),
  after its event, with ``(actor, case, action, at)``; each hook picks the actions it follows
  (the lead's signature is its group part's; ``followup``: a feedback schedules the follow-up
  call, a rating answers it, closing or reopening cancels it). On a case intake has just
  made (``Case.fresh``) only the hooks registered with ``fresh=True`` are called: the others
  act on the part's own rows of a case, which a new case does not have yet.
* **on-assign hooks** — called when a case reaches a unit (an urgent case at night also goes
  to the people on duty).
* **the classifier** — the text classifier intake asks for a category (``routing``).
* **personal data** — what a part holds about a phone number, for a person's access request
  (``cases.privacy.export_personal_data``; ``public``: a reporting partner's registration).
* **clock rules** — a part's own limit for a clock of the cases it knows (a proposal's
  written reply is due in months, not working days); ``cases.clocks.due_for`` asks them
  before the matter's limits (``proposals``).
* **case panels** — a part's section of the case page (an enterprise's history,
  ``enterprise``; a proposal's hand-over and reply, ``proposals``): a template and its
  context, or nothing for cases the part does not know.

Registering is idempotent: registering the same thing twice keeps one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django_stubs_ext import StrPromise

    from minsheng.accounts.actors import Actor
    from minsheng.accounts.models import Unit

    from .models import Case

    Label = StrPromise | str

# The kinds the case's own actions and the clock watch write.
CASE_EVENT_KINDS: dict[str, Label] = {
    "accept": gettext_lazy("Accepted"),
    "triage": gettext_lazy("Triage"),
    "assign": gettext_lazy("Assigned"),
    "sign": gettext_lazy("Signed"),
    "return": gettext_lazy("Returned"),
    "dispatch": gettext_lazy("People dispatched"),
    "handle": gettext_lazy("Handling note"),
    "feedback": gettext_lazy("Feedback to requester"),
    "rate": gettext_lazy("Rated"),
    "close": gettext_lazy("Closed"),
    "reopen": gettext_lazy("Reopened"),
    "extend": gettext_lazy("Extension requested"),
    "approve_extension": gettext_lazy("Extension decided"),
    "supervise": gettext_lazy("Supervision"),
    "merge": gettext_lazy("Merged as duplicate"),
    "merged_in": gettext_lazy("Duplicate merged in"),
    "clock_warning": gettext_lazy("Time limit warning"),
    "clock_breach": gettext_lazy("Time limit breached"),
    "limit_recounted": gettext_lazy("Time limit recounted on a new holiday schedule"),
    "personal_data_erased": gettext_lazy("Personal data erased at the end of its retention period"),
}

Refusals = Callable[["Case"], Mapping[str, str]]
Grant = Callable[["Actor", "Case"], bool]
Visibility = Callable[[Iterable[int]], "QuerySet[Any, Any]"]
AfterAction = Callable[["Actor", "Case", str, dt.datetime], None]
OnAssign = Callable[["Case", "Unit", dt.datetime], Any]
Classifier = Callable[[str], tuple[Any, float]]
ClassifierMany = Callable[[list[str]], list[tuple[Any, float]]]
PersonalData = Callable[[str], Any]
ClockRule = Callable[["Case", str, dt.datetime], "dt.datetime | None"]
PrepareCases = Callable[[list["Case"]], None]
CasePanel = Callable[["Actor", "Case"], "tuple[str, dict[str, Any]] | None"]


@dataclass(frozen=True)
class Guard:
    """A part's say over case actions: ``refusals(case)`` names the actions of ``actions``
    it refuses now, each with the reason to show."""

    actions: frozenset[str]
    refusals: Refusals


_event_kinds: dict[str, Label] = dict(CASE_EVENT_KINDS)
_guards: list[Guard] = []
_grants: dict[str, list[Grant]] = {}
_visibility: list[Visibility] = []
_after_action: list[AfterAction] = []
_after_action_fresh: list[AfterAction] = []
_on_assign: list[OnAssign] = []
_classifier: list[Classifier] = []
_classifier_many: list[ClassifierMany] = []
_personal_data: dict[str, PersonalData] = {}
_clock_rules: list[ClockRule] = []
_clock_rule_prepares: list[PrepareCases] = []
_case_panels: list[CasePanel] = []


def _add(items: list[Any], item: Any) -> None:
    if item not in items:
        items.append(item)


# --- event kinds ---------------------------------------------------------------------


def register_event_kinds(labels: Mapping[str, Label]) -> None:
    """A part's event kinds with the words the timeline shows. A kind means one thing: a
    second registration with another label is a mistake and refused."""
    for kind, label in labels.items():
        held = _event_kinds.get(kind)
        if held is not None and str(held) != str(label):
            raise ValueError(f"event kind {kind!r} is already registered as {str(held)!r}")
        _event_kinds[kind] = label


def is_event_kind(kind: str) -> bool:
    return kind in _event_kinds


def event_kinds() -> dict[str, Label]:
    return dict(_event_kinds)


def event_label(kind: str) -> str:
    """The words for ``kind`` (the kind itself when nobody registered it)."""
    return str(_event_kinds.get(kind, kind))


# --- guards and grants ---------------------------------------------------------------


def register_guard(actions: Iterable[str], refusals: Refusals) -> None:
    _add(_guards, Guard(frozenset(actions), refusals))


def refusal(case: Case, action: str) -> str | None:
    """Why a registered guard refuses ``action`` on ``case`` now, or ``None`` (guards that
    have no say on ``action`` are not asked; nor any about a case intake has just made,
    of which no part has rows yet: ``Case.fresh``)."""
    if case.fresh:
        return None
    for guard in _guards:
        if action in guard.actions:
            refused = guard.refusals(case).get(action)
            if refused:
                return refused
    return None


def refusals(case: Case) -> dict[str, str]:
    """Every action a guard refuses on ``case`` now, with the reason."""
    out: dict[str, str] = {}
    if case.fresh:
        return out
    for guard in _guards:
        for action, reason in guard.refusals(case).items():
            out.setdefault(action, reason)
    return out


def register_grant(action: str, grant: Grant) -> None:
    _add(_grants.setdefault(action, []), grant)


def granted(actor: Actor, action: str, case: Case) -> bool:
    if case.fresh:
        return False
    return any(grant(actor, case) for grant in _grants.get(action, ()))


# --- visibility ----------------------------------------------------------------------


def register_visibility(case_ids_for_units: Visibility) -> None:
    _add(_visibility, case_ids_for_units)


def extra_visible(unit_ids: Iterable[int]) -> list[QuerySet[Any, Any]]:
    """Subqueries of the ids of the cases these units see beyond those they hold."""
    ids = list(unit_ids)
    return [extra(ids) for extra in _visibility]


# --- hooks ---------------------------------------------------------------------------


def register_after_action(hook: AfterAction, *, fresh: bool = False) -> None:
    """``fresh``: the hook also follows the actions intake takes on a case it has just made
    (its zero-touch assignment, its merge into a certain duplicate). A hook that acts only
    on the part's own rows of a case leaves it out: a new case has none yet, and a batch of
    new cases then asks it nothing (no query per case)."""
    _add(_after_action, hook)
    if fresh:
        _add(_after_action_fresh, hook)


def after_action(actor: Actor, case: Case, action: str, at: dt.datetime) -> None:
    for hook in _after_action_fresh if case.fresh else _after_action:
        hook(actor, case, action, at)


def register_on_assign(hook: OnAssign) -> None:
    _add(_on_assign, hook)


def on_assign(case: Case, unit: Unit, at: dt.datetime) -> None:
    for hook in _on_assign:
        hook(case, unit, at)


# --- the classifier ------------------------------------------------------------------


def register_classifier(classify: Classifier, many: ClassifierMany | None = None) -> None:
    """``classify(text)`` answers a prediction (``code``, ``confidence``, ``candidates``,
    ``method``, ``model_version``) and the confidence the model itself needs for that code;
    ``many(texts)`` the same for many texts in one pass (batch intake). One classifier: a
    second registration replaces the first."""
    _classifier[:] = [classify]
    _classifier_many[:] = [many] if many is not None else []


def classifier() -> Classifier | None:
    return _classifier[0] if _classifier else None


def classifier_many() -> ClassifierMany | None:
    """The classifier for many texts at once; without one, each text is asked alone."""
    if _classifier_many:
        return _classifier_many[0]
    one = classifier()
    return None if one is None else (lambda texts: [one(t) for t in texts])


# --- personal data -------------------------------------------------------------------


def register_personal_data(section: str, held_about: PersonalData) -> None:
    """``held_about(phone)`` answers, JSON-ready, what the part holds about that phone
    number (national digits); it goes into the person's export under ``section``."""
    _personal_data[section] = held_about


def personal_data_sections() -> dict[str, PersonalData]:
    return dict(_personal_data)


# --- clock rules ---------------------------------------------------------------------


def register_clock_rule(rule: ClockRule, *, prepare: PrepareCases | None = None) -> None:
    """``rule(case, clock_name, start)`` answers the clock's due time for a case the part
    knows, or ``None`` to leave it to the matter's limits. ``prepare(cases)``, when given, is
    called once for a batch of new cases before their clocks start, so that the rule reads
    what it needs for all of them at once (one query, not one per case)."""
    _add(_clock_rules, rule)
    if prepare is not None:
        _add(_clock_rule_prepares, prepare)


def prepare_clock_rules(cases: list[Case]) -> None:
    """The clock rules' ``prepare`` for new cases about to start their clocks."""
    for prepare in _clock_rule_prepares:
        prepare(cases)


def clock_due(case: Case, name: str, start: dt.datetime) -> dt.datetime | None:
    """The first registered rule's due time for this clock, or ``None``."""
    for rule in _clock_rules:
        due = rule(case, name, start)
        if due is not None:
            return due
    return None


# --- case panels ---------------------------------------------------------------------


def register_case_panel(panel: CasePanel) -> None:
    """``panel(actor, case)`` answers ``(template, context)`` for a section of the case
    page, or ``None``; the page includes the template with ``panel`` set to the context."""
    _add(_case_panels, panel)


def case_panels(actor: Actor, case: Case) -> list[dict[str, Any]]:
    """The parts' sections of the case page for this person, in registration order."""
    out: list[dict[str, Any]] = []
    for panel in _case_panels:
        shown = panel(actor, case)
        if shown is not None:
            template, context = shown
            out.append({"template": template, "context": context})
    return out
