"""Who sees and who changes which article (the one rule for the pages, the API and the
actions).

* The city centre reviews: city dispatchers and administrators (``REVIEWERS``) see, edit,
  publish, return and expire every article.
* The rest of the centre (operators, who read the answers out, and leaders) see every
  article and change none.
* A line department's handler sees and edits its own unit's articles, in every state, and
  reads the other units' published ones; everyone else signed in reads published articles.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role

from .models import Article, ArticleState

REVIEWERS = frozenset({Role.CITY_DISPATCHER, Role.ADMIN})
READ_ALL = REVIEWERS | {Role.OPERATOR, Role.LEADER}
EDITORS = REVIEWERS | {Role.HANDLER}


def visible_articles(actor: Actor, base: QuerySet[Article] | None = None) -> QuerySet[Article]:
    qs = base if base is not None else Article.objects.all()
    if actor.is_system or actor.role in READ_ALL:
        return qs
    if actor.role is None:
        return qs.none()
    mine = Q(owner_unit=actor.unit) if actor.unit is not None and actor.role == Role.HANDLER else Q(pk__in=[])
    return qs.filter(mine | Q(state=ArticleState.PUBLISHED))


def is_reviewer(actor: Actor) -> bool:
    return actor.is_system or actor.role in REVIEWERS


def may_edit(actor: Actor, article: Article) -> bool:
    """The owner unit's handler, or the centre."""
    if is_reviewer(actor):
        return True
    return actor.role == Role.HANDLER and actor.unit is not None and actor.unit.pk == article.owner_unit_id


def may_create(actor: Actor) -> bool:
    return is_reviewer(actor) or (actor.role == Role.HANDLER and actor.unit is not None)


def may_act(actor: Actor, action: str, article: Article) -> bool:
    """``edit``, ``revise`` and ``submit`` belong to the editors; ``publish``, ``return`` and
    ``expire`` to the centre."""
    if action in ("edit", "revise", "submit"):
        return may_edit(actor, article)
    return is_reviewer(actor)
