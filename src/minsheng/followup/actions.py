"""Every change to follow-ups (回访), each one named action in one transaction.

* :func:`after_case_action` — the hook ``cases`` calls in the transaction of every case
  action (registered in ``apps.py``): the unit's feedback schedules a follow-up when the
  city's rules select the case; the requester's own rating through the SMS link answers a
  pending one; closing, merging or reopening the case cancels one still pending.
* :func:`record_answer` — the operator reached the requester: satisfied, basically satisfied
  or unsatisfied. The answer is the case's rating (``cases.actions.rate_case``) and an
  unsatisfied one, with its reason, reopens the case to the unit that handled it
  (``cases.actions.reopen_case``, 重办), all in one transaction, as the rating on the public
  follow page does.
* :func:`record_no_answer` — a call nobody answered; the next may be made after the set
  interval.
* :func:`followup_pass` — the worker's part: a follow-up whose set number of calls went
  unanswered, and whose last interval passed without an answer through the link, ends as
  unreachable (无法联系).

Every change to the case itself goes through the case kernel (``cases.actions`` or
``kernel.record`` for the timeline entries that change neither its state nor its version).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.cases import actions as case_actions
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.cases.states import Rating
from minsheng.core import clock

from . import rules
from .models import FollowUp, FollowUpState, Outcome, RuleSet, Via

log = logging.getLogger("minsheng.followup")

# The case actions that end a pending follow-up without an answer.
CANCELLING_ACTIONS = frozenset({"close", "merge", "reopen", "assign", "return"})


# --- the hook in the case's own actions ---------------------------------------------------


def after_case_action(actor: Actor, case: Case, action: str, at: dt.datetime) -> None:
    """Called by the case kernel after every case action, in its transaction."""
    if action == "feedback":
        schedule(case, at)
    elif action == "rate":
        _answered_through_link(actor, case, at)
    elif action in CANCELLING_ACTIONS:
        _cancel(case, at, action)


def schedule(case: Case, at: dt.datetime) -> FollowUp | None:
    """The follow-up of this feedback, when a rule selects the case (its reason on the
    timeline); ``None`` when none does. A follow-up still pending from an earlier feedback
    is replaced by this one."""
    ruleset = RuleSet.current()
    chosen = rules.selection(case, ruleset)
    if chosen is None:
        return None
    reason, words = chosen
    _cancel(case, at, "feedback")
    due = at + dt.timedelta(hours=ruleset.delay_hours)
    try:
        with transaction.atomic():
            followup = FollowUp.objects.create(
                case=case,
                unit=case.owner_unit,
                reason=reason,
                created_at=at,
                due_at=due,
                next_attempt_at=due,
            )
    except IntegrityError:  # a follow-up of the same feedback is already pending
        return FollowUp.objects.filter(case=case, state=FollowUpState.PENDING).first()
    local = timezone.localtime(due)
    kernel.record(
        case,
        "followup_scheduled",
        at,
        label=str(_("Follow-up rules")),
        note=_("%(why)s Call due from %(at)s.") % {"why": words, "at": f"{local:%Y-%m-%d %H:%M}"},
        data={"followup": followup.pk, "reason": reason, "due_at": due.isoformat()},
    )
    return followup


def _answered_through_link(actor: Actor, case: Case, at: dt.datetime) -> None:
    """A rating the requester gave on the follow page (the SMS link) answers the follow-up
    (an operator's answer marks its follow-up done before it rates, so is not seen here)."""
    followup = FollowUp.objects.select_for_update().filter(case=case, state=FollowUpState.PENDING).first()
    if followup is None:
        return
    via = Via.LINK if actor.is_requester else Via.PHONE
    _finish(followup, case.rating, via, at, actor)
    kernel.record(
        case,
        "followup",
        at,
        actor=actor,
        note=case.rating_note,
        data={"followup": followup.pk, "rating": case.rating, "outcome": case.rating, "via": via},
    )


def _cancel(case: Case, at: dt.datetime, why: str) -> None:
    for followup in FollowUp.objects.select_for_update().filter(case=case, state=FollowUpState.PENDING):
        followup.state = FollowUpState.CANCELLED
        followup.finished_at = at
        followup.save(update_fields=["state", "finished_at"])
        kernel.record(
            case,
            "followup_cancelled",
            at,
            label=str(_("Follow-up rules")),
            data={"followup": followup.pk, "by": why},
        )


def _finish(followup: FollowUp, outcome: str, via: str, at: dt.datetime, actor: Actor | None) -> None:
    followup.state = FollowUpState.UNREACHABLE if outcome == Outcome.UNREACHABLE else FollowUpState.DONE
    followup.outcome = outcome
    followup.via = via
    followup.finished_at = at
    followup.finished_by = actor.user if actor is not None else None
    followup.save()


# --- the follow-up queue ------------------------------------------------------------------


def _open(actor: Actor, followup_id: int) -> FollowUp:
    """The pending follow-up, its row locked, when ``actor`` may work the queue."""
    if actor.role not in rules.FOLLOWUP_ROLES:
        raise Forbidden(_("Only the centre's operators and dispatchers make follow-up calls."))
    followup = (
        FollowUp.objects.select_for_update(of=("self",)).select_related("case").filter(pk=followup_id).first()
    )
    if followup is None:
        raise NotFound(_("No such follow-up."))
    if not followup.is_pending:
        raise Conflict(
            _("This follow-up is already over: %(state)s.") % {"state": followup.get_state_display()},
            state=followup.state,
            version=followup.attempts,
        )
    return followup


def record_answer(actor: Actor, followup_id: int, *, outcome: str, note: str = "") -> FollowUp:
    """回访结果: the requester's answer on the phone. It becomes the case's rating; an
    unsatisfied answer needs the reason, and reopens the case (重办) to the unit that
    handled it, in the same transaction (a refusal of either leaves nothing written)."""
    note = (note or "").strip()
    if outcome not in Rating.values:
        raise Invalid("outcome", _("Choose satisfied, basically satisfied or unsatisfied."))
    if outcome == Rating.UNSATISFIED and not note:
        raise Invalid("note", _("Write why the requester is not satisfied: the unit handles it again."))
    with transaction.atomic():
        followup = _open(actor, followup_id)
        at = clock.now()
        _finish(followup, outcome, Via.PHONE, at, actor)  # before the rating, so its hook passes it by
        case = case_actions.rate_case(actor, followup.case_id, rating=outcome, note=note)
        kernel.record(
            case,
            "followup",
            at,
            actor=actor,
            note=note,
            data={"followup": followup.pk, "rating": outcome, "outcome": outcome, "via": Via.PHONE},
        )
        if outcome == Rating.UNSATISFIED:
            case_actions.reopen_case(
                actor,
                case.pk,
                note=_("Follow-up: the requester is not satisfied: %(reason)s") % {"reason": note},
            )
        return followup


def record_no_answer(actor: Actor, followup_id: int, *, note: str = "") -> FollowUp:
    """A follow-up call nobody answered. The next call may be made after the set interval;
    once the set number of calls went unanswered the worker ends the follow-up as
    unreachable when the last interval has passed (the SMS link stays open meanwhile)."""
    with transaction.atomic():
        followup = _open(actor, followup_id)
        ruleset = RuleSet.current()
        at = clock.now()
        if at < followup.next_attempt_at:
            local = timezone.localtime(followup.next_attempt_at)
            raise Conflict(
                _("The next call is due from %(at)s: calls are made at set intervals.")
                % {"at": f"{local:%Y-%m-%d %H:%M}"},
                state=followup.state,
                version=followup.attempts,
            )
        if followup.attempts >= ruleset.attempts:
            raise Conflict(
                _("Every call has been made; the follow-up ends as unreachable."),
                state=followup.state,
                version=followup.attempts,
            )
        followup.attempts += 1
        followup.last_attempt_at = at
        followup.next_attempt_at = at + dt.timedelta(minutes=ruleset.interval_minutes)
        followup.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
        kernel.record(
            followup.case,
            "followup_attempt",
            at,
            actor=actor,
            note=(note or "").strip(),
            data={"followup": followup.pk, "attempt": followup.attempts, "of": ruleset.attempts},
        )
        return followup


# --- the worker's part --------------------------------------------------------------------


def followup_pass(now: dt.datetime, limit: int = 500) -> int:
    """End as unreachable every pending follow-up whose set number of calls went unanswered
    and whose last interval has passed. Claimed with ``SKIP LOCKED``, so several workers
    share the work. Answers how many ended."""
    ruleset = RuleSet.current()
    ended = 0
    with transaction.atomic():
        due = (
            FollowUp.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("case")
            .filter(state=FollowUpState.PENDING, attempts__gte=ruleset.attempts, next_attempt_at__lte=now)[
                :limit
            ]
        )
        for followup in due:
            _finish(followup, Outcome.UNREACHABLE, "", now, None)
            kernel.record(
                followup.case,
                "followup_unreachable",
                now,
                label=str(_("Follow-up rules")),
                note=_("No answer after %(n)d calls.") % {"n": followup.attempts},
                data={"followup": followup.pk, "outcome": Outcome.UNREACHABLE, "attempts": followup.attempts},
            )
            ended += 1
    if ended:
        log.info("%d follow-ups ended as unreachable", ended)
    return ended
