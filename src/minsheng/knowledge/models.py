"""The knowledge base (知识库): articles an operator reads out or sends by SMS, so that a
caller's question is answered on the call instead of becoming a work order.

An article belongs to its owner unit (the department that drafts and updates it); the city
centre reviews and publishes it. Every saved change is a version (``ArticleVersion``,
append-only); the version last published is the one suggested to operators, until the
article expires or a newer version is published.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ArticleState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("article", "Draft")  # 草稿
    IN_REVIEW = "in_review", _("In review")  # 待审核
    PUBLISHED = "published", _("Published")  # 已发布
    EXPIRED = "expired", _("Expired")  # 已过期


S = ArticleState
# Action → (states it may start from, state it leaves the article in). A test reads it whole.
# ``revise`` is an edit of a published or expired article: it opens a new draft, while the
# version last published keeps answering callers until the new one is published (or the
# article expires).
TRANSITIONS: dict[str, tuple[frozenset[ArticleState], ArticleState]] = {
    "edit": (frozenset({S.DRAFT}), S.DRAFT),
    "revise": (frozenset({S.PUBLISHED, S.EXPIRED}), S.DRAFT),
    "submit": (frozenset({S.DRAFT}), S.IN_REVIEW),
    "publish": (frozenset({S.IN_REVIEW}), S.PUBLISHED),
    "return": (frozenset({S.IN_REVIEW}), S.DRAFT),
    "expire": (frozenset({S.PUBLISHED}), S.EXPIRED),
}
ACTIONS = tuple(TRANSITIONS)


class Article(models.Model):
    """One article (知识条目): the working copy of its text, its workflow state and the
    version that is served (``live``: the last published, null until the first
    publication). ``code`` is stable (the loaded file's ``id``, e.g. ``K001``)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    answer = models.TextField(_("answer"))
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    owner_unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="articles", verbose_name=_("owner unit")
    )
    matter = models.ForeignKey(
        "catalog.Matter",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        verbose_name=_("matter"),
    )
    valid_until = models.DateField(_("valid until"))
    state = models.CharField(_("state"), max_length=16, choices=ArticleState.choices, default=S.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=0)
    live = models.ForeignKey(
        "ArticleVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    # The owner unit was reminded of the coming expiry for this valid-until date (null: not
    # yet); a new date means a new reminder.
    reminded_for = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        constraints = [
            models.CheckConstraint(name="article_state_valid", condition=models.Q(state__in=S.values)),
        ]
        indexes = [models.Index(fields=["state", "valid_until"], name="article_state_until")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class ArticleVersion(models.Model):
    """One entry of an article's history (append-only: the database refuses updates): what
    was done (``action``: a key of ``TRANSITIONS``, ``create`` or ``load``), by whom and
    when, with the text as it stood then. ``number`` is the text's version: an edit makes a
    new number, a review step (submit, publish, return, expire) records the number it
    concerns. The article's ``live`` entry is the ``publish`` (or ``load``) entry whose text
    is served."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    answer = models.TextField(_("answer"))
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    valid_until = models.DateField(_("valid until"))
    action = models.CharField(_("action"), max_length=16)
    note = models.CharField(_("note"), max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author_label = models.CharField(_("by"), max_length=128)
    author_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["article_id", "id"]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"
