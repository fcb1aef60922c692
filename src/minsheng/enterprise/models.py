"""Enterprises (企业), their service officers, the list's enterprise matters, and which
cases are an enterprise's (涉企诉求)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Enterprise(models.Model):
    """An enterprise known by its unified social credit code (统一社会信用代码, checked by its
    check character: ``credit_code.py``), with the service officer (服务专员) who follows
    every request it makes."""

    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=128)
    address = models.CharField(_("address"), max_length=200, blank=True)
    service_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprises_served",
        verbose_name=_("service officer"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_code})"


class EnterpriseMatter(models.Model):
    """A matter of the list that is an enterprise's (涉企事项), with its own limits on the
    matter itself (catalog data, ``enterprise/data/matters.json``). Enterprise requests
    take only these matters."""

    matter = models.OneToOneField("catalog.Matter", on_delete=models.CASCADE, related_name="enterprise")

    class Meta:
        verbose_name = _("enterprise matter")
        verbose_name_plural = _("enterprise matters")

    def __str__(self) -> str:
        return str(self.matter)


class EnterpriseCase(models.Model):
    """A case that is an enterprise's request: its history is the list of these."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="enterprise_link")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="case_links")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["enterprise", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.enterprise_id} → {self.case_id}"
