"""Deputies' proposals and members' suggestions (议案提案): their kinds with the limits as
data, and each proposal handed to a lead unit and co-units."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.cases.states import Rating


class ProposalKind(models.Model):
    """A kind of proposal (人大代表建议、政协委员提案 …) with its own limits, loaded from
    ``proposals/data/kinds.json``: contact the proposer within ``contact_days`` of the
    lead's signature, reply in writing within ``reply_months`` of the hand-over, co-units
    give their part within ``co_unit_days``, the proposer's verdict within ``verdict_days``
    of the reply's due time. Its matter in the list of matters marks the case as one."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    proposer_title = models.CharField(_("proposer's title"), max_length=32)
    matter = models.OneToOneField("catalog.Matter", on_delete=models.PROTECT, related_name="proposal_kind")
    contact_days = models.PositiveIntegerField(_("contact the proposer within (days)"), default=30)
    reply_months = models.PositiveIntegerField(_("written reply within (months)"), default=3)
    co_unit_days = models.PositiveIntegerField(_("co-units' part within (days)"), default=30)
    verdict_days = models.PositiveIntegerField(_("proposer's verdict within (days)"), default=30)

    class Meta:
        ordering = ["code"]
        verbose_name = _("proposal kind")
        verbose_name_plural = _("proposal kinds")

    def __str__(self) -> str:
        return self.name


class Proposal(models.Model):
    """A proposal or suggestion (议案/建议/提案) as handed over (交办): its number and title,
    the proposer (public: the tracking page names them), and what the handling reached.
    The case carries the work; this row what the tracking page shows."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="proposal")
    kind = models.ForeignKey(ProposalKind, on_delete=models.PROTECT, related_name="proposals")
    number = models.CharField(_("number"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    proposer = models.CharField(_("proposer"), max_length=64)
    public = models.BooleanField(_("on the public tracking page"), default=True)
    handed_over_at = models.DateTimeField(_("handed over at"))
    contacted_at = models.DateTimeField(_("proposer contacted at"), null=True, blank=True)
    contact_how = models.CharField(_("how"), max_length=32, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    reply_text = models.TextField(_("written reply"), blank=True)
    verdict = models.CharField(_("proposer's verdict"), max_length=24, choices=Rating.choices, blank=True)
    verdict_at = models.DateTimeField(_("verdict at"), null=True, blank=True)
    rounds = models.PositiveIntegerField(_("rounds of handling"), default=1)

    class Meta:
        ordering = ["-handed_over_at", "-id"]
        indexes = [models.Index(fields=["public", "-handed_over_at"])]
        constraints = [
            models.CheckConstraint(
                name="proposal_verdict_valid",
                condition=models.Q(verdict="") | models.Q(verdict__in=Rating.values),
            ),
        ]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
