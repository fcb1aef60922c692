"""Follow-up (回访): the rules the city sets for which cases are called back after their
feedback, and one row per follow-up with its attempts and outcome.

The rules (``RuleSet``, one row, and ``MatterRule`` per matter) say which cases are followed
up: a share of each matter's cases (100 % for the matters the city treats as complaints, 投诉),
every case that was supervised (督办), and every case of a unit placed under supervision
(重点督办单位). The follow-up (``FollowUp``) is scheduled when the unit's feedback (反馈)
reaches the requester and is due a set delay later; an operator calls, records the answer
(satisfied / basically satisfied / unsatisfied) or a call nobody answered, and after the
set number of unanswered attempts at the set interval it ends as unreachable. A rating the
requester gives on the public follow page meanwhile ends it too.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .defaults import complaint_matters, initial_values

DEFAULT_SCRIPT = (
    "您好，这里是12345热线回访。您于{{ created }}反映的「{{ title }}」（工单号 {{ number }}），"
    "{{ unit }}答复：{{ feedback }}。请问您对办理结果是满意、基本满意还是不满意？"
)


class RuleSet(models.Model):
    """The city's follow-up rules (回访规则): one row (``RuleSet.current()``), edited by the
    city dispatcher or an administrator on the rules page and in the admin. Nothing is
    followed up until the city says what: the defaults select no case."""

    default_share = models.PositiveSmallIntegerField(
        _("share of other matters' cases (%)"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("For matters without a rule of their own: 100 follows up every case, 0 none."),
    )
    supervised_cases = models.BooleanField(
        _("follow up every supervised case"),
        default=False,
        help_text=_("Cases a higher level supervised (督办) at least once."),
    )
    supervised_units = models.ManyToManyField(
        "accounts.Unit",
        blank=True,
        related_name="+",
        verbose_name=_("units under supervision"),
        help_text=_("Every case these units fed back is followed up."),
    )
    delay_hours = models.PositiveIntegerField(
        _("delay after feedback (hours)"),
        default=24,
        help_text=_("The requester has this long to rate through the link before the call is due."),
    )
    attempts = models.PositiveSmallIntegerField(
        _("attempts before unreachable"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    interval_minutes = models.PositiveIntegerField(
        _("interval between attempts (minutes)"), default=120, validators=[MinValueValidator(1)]
    )
    default_script = models.TextField(
        _("default script"),
        default=DEFAULT_SCRIPT,
        help_text=_(
            "What the operator reads. Placeholders: {{ number }}, {{ title }}, {{ created }}, "
            "{{ unit }}, {{ feedback }}, {{ name }}."
        ),
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("follow-up rules")
        verbose_name_plural = _("follow-up rules")
        constraints = [
            models.CheckConstraint(
                name="followup_default_share_pct", condition=models.Q(default_share__lte=100)
            ),
            models.CheckConstraint(name="followup_attempts_positive", condition=models.Q(attempts__gte=1)),
        ]

    def __str__(self) -> str:
        return str(_("Follow-up rules"))

    @classmethod
    def current(cls) -> RuleSet:
        """The one row, made the first time it is asked for with the defaults the settings
        give (``MINSHENG_FOLLOWUP_*``, see :mod:`.defaults`); after that the row is the truth."""
        rules = cls.objects.filter(pk=1).first()
        if rules is None:
            rules, created = cls.objects.get_or_create(pk=1, defaults=initial_values())
            if created:
                from minsheng.catalog.models import Matter

                for matter in Matter.objects.filter(code__in=complaint_matters()):
                    MatterRule.objects.get_or_create(rules=rules, matter=matter, defaults={"share": 100})
        return rules


class MatterRule(models.Model):
    """A matter's own share of cases followed up (100: all of them, as for complaints) and,
    optionally, its own script."""

    rules = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="matter_rules")
    matter = models.ForeignKey(
        "catalog.Matter", on_delete=models.CASCADE, related_name="+", verbose_name=_("matter")
    )
    share = models.PositiveSmallIntegerField(
        _("share followed up (%)"), default=100, validators=[MaxValueValidator(100)]
    )
    script = models.TextField(_("script"), blank=True, help_text=_("Empty: the default script."))

    class Meta:
        ordering = ["matter__code"]
        verbose_name = _("matter rule")
        verbose_name_plural = _("matter rules")
        constraints = [
            models.UniqueConstraint(fields=["rules", "matter"], name="followup_one_rule_per_matter"),
            models.CheckConstraint(name="followup_share_pct", condition=models.Q(share__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.matter_id}: {self.share}%"


class Reason(models.TextChoices):
    """Which rule selected the case."""

    MATTER = "matter", _("Its matter's rule")  # 投诉类 matters: every case
    DEFAULT = "default", _("The share of every matter")
    SUPERVISED = "supervised", _("Supervised case")  # 督办件
    UNIT = "unit", _("Unit under supervision")  # 重点督办单位


class FollowUpState(models.TextChoices):
    PENDING = "pending", _("To call")
    DONE = "done", _("Answered")
    UNREACHABLE = "unreachable", _("Unreachable")
    CANCELLED = "cancelled", _("Cancelled")


class Outcome(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")  # 满意
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("Unsatisfied")  # 不满意
    UNREACHABLE = "unreachable", _("Unreachable")  # 无法联系


class Via(models.TextChoices):
    PHONE = "phone", _("By phone")
    LINK = "link", _("Through the SMS link")


class FollowUp(models.Model):
    """One follow-up of one case's feedback (回访). A case has at most one pending; a
    reopened case fed back again gets a new one.

    ``next_attempt_at`` is when the operator should call: the due time at first, then after
    each unanswered call the interval later. ``unit`` is the unit whose feedback is followed
    up (the one a reopening goes back to)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="followups")
    unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=FollowUpState.choices, default=FollowUpState.PENDING
    )
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(_("due"))
    next_attempt_at = models.DateTimeField(_("next attempt"))
    attempts = models.PositiveSmallIntegerField(_("unanswered calls"), default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    via = models.CharField(_("answered"), max_length=8, choices=Via.choices, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["next_attempt_at", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            # The queue: pending follow-ups by when to call.
            models.Index(
                fields=["next_attempt_at"],
                name="followup_pending_next",
                condition=models.Q(state="pending"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(state="pending"), name="followup_one_pending_per_case"
            ),
            models.CheckConstraint(
                name="followup_state_valid", condition=models.Q(state__in=FollowUpState.values)
            ),
            models.CheckConstraint(
                name="followup_outcome_valid",
                condition=models.Q(outcome="") | models.Q(outcome__in=Outcome.values),
            ),
            models.CheckConstraint(
                name="followup_reason_valid", condition=models.Q(reason__in=Reason.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.state}"

    @property
    def is_pending(self) -> bool:
        return self.state == FollowUpState.PENDING
