"""Which cases are followed up (回访规则), and the script the operator reads.

A case is followed up after its feedback when it has a phone number to call and one of the
city's rules selects it, tried in this order:

1. its unit is under supervision (重点督办单位: ``RuleSet.supervised_units``);
2. it was supervised (督办) at least once and the rules follow up supervised cases;
3. its matter has a rule (``MatterRule``): that share of the matter's cases (100 for the
   matters the city treats as complaints, 投诉, whose every case is called back);
4. otherwise the share for every other matter (``RuleSet.default_share``).

A share takes the cases whose :func:`sample_bucket` (0–99, a hash of the case's id, the
same on every run and every machine) is below it: 30 % takes the same 30 cases of a hundred
whenever it is asked, so a test, an audit or a second worker reaches the same answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.models import Role
from minsheng.cases.models import Case

from .models import DEFAULT_SCRIPT, MatterRule, Reason, RuleSet

# Who works the follow-up queue: the centre's roles (as for the callback queue).
FOLLOWUP_ROLES = frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN})


def sample_bucket(case_id: int) -> int:
    """The case's place among a hundred, fixed for ever: ``sha256("followup:<id>")`` mod 100."""
    digest = hashlib.sha256(f"followup:{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def in_share(case_id: int, share: int) -> bool:
    return sample_bucket(case_id) < share


def selection(case: Case, rules: RuleSet) -> tuple[str, str] | None:
    """Why ``case`` is followed up (a :class:`Reason` and the words for the timeline), or
    ``None``."""
    if not case.requester_phone or case.merged_into_id:
        return None  # nobody to call back
    unit = case.owner_unit
    if unit is not None and rules.supervised_units.filter(pk=unit.pk).exists():
        return Reason.UNIT, _("%(unit)s is under supervision: every case it feeds back is followed up.") % {
            "unit": unit.name
        }
    if rules.supervised_cases and case.supervision_count > 0:
        return Reason.SUPERVISED, _("A supervised case: every one is followed up.")
    rule = (
        MatterRule.objects.filter(rules=rules, matter_id=case.matter_id).first() if case.matter_id else None
    )
    if rule is not None:
        if not in_share(case.pk, rule.share):
            return None
        if rule.share >= 100:
            return Reason.MATTER, _("Every case of this matter is followed up.")
        return Reason.MATTER, _("%(share)d%% of this matter's cases are followed up.") % {"share": rule.share}
    if not in_share(case.pk, rules.default_share):
        return None
    if rules.default_share >= 100:
        return Reason.DEFAULT, _("Every case is followed up.")
    return Reason.DEFAULT, _("%(share)d%% of the cases are followed up.") % {"share": rules.default_share}


def matter_scripts(rules: RuleSet) -> dict[int, str]:
    """The matters' own scripts (matter id → script), read once for a whole queue."""
    return {r.matter_id: r.script for r in rules.matter_rules.all() if r.script.strip()}


def script_source(case: Case, rules: RuleSet, scripts: dict[int, str] | None = None) -> str:
    own = (scripts if scripts is not None else matter_scripts(rules)).get(case.matter_id or 0)
    return own or rules.default_script or DEFAULT_SCRIPT


def script_for(case: Case, rules: RuleSet, unit: Any = None, scripts: dict[int, str] | None = None) -> str:
    """The script with the case filled in (plain text: the page escapes it). A script that
    does not compile falls back to the shipped one, so a typo never leaves the operator
    without words. ``scripts``: :func:`matter_scripts`, when a queue already read them."""
    created: dt.datetime = timezone.localtime(case.created_at)
    held_by = unit or case.owner_unit
    values = {
        "number": case.number,
        "title": case.title,
        "created": f"{created.month}月{created.day}日",
        "unit": held_by.name if held_by is not None else _("the unit"),
        "feedback": case.feedback_text,
        "name": case.requester_name,
    }
    context = Context(values, autoescape=False)
    try:
        return Template(script_source(case, rules, scripts)).render(context).strip()
    except TemplateSyntaxError:
        return Template(DEFAULT_SCRIPT).render(context).strip()
