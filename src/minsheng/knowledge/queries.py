"""Reading the knowledge base: the articles that are served, and the process-wide
suggestion engine built from them (rebuilt when they change: checked on every call;
a large knowledge base is rebuilt in the background)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from minsheng.accounts.actors import Actor
from minsheng.cases.models import CaseEvent
from minsheng.cases.states import Rating
from minsheng.core import clock
from minsheng.core.conf import setting

from .models import Article, ArticleState, ArticleVersion
from .scoping import visible_articles
from .suggest import ArticleText, Suggester
from .training import build_engine

_lock = threading.Lock()


def today() -> dt.date:
    """The city's date now (valid-until dates are local dates)."""
    return timezone.localtime(clock.now()).date()


def served_q(day: dt.date) -> Q:
    """Articles whose published version answers callers on ``day``: published once, not
    expired, and that version's valid-until date not passed."""
    return Q(live__isnull=False, live__valid_until__gte=day) & ~Q(state=ArticleState.EXPIRED)


def served_articles(day: dt.date | None = None) -> QuerySet[Article]:
    return Article.objects.filter(served_q(day or today())).select_related("live")


def served_texts(day: dt.date | None = None) -> list[ArticleText]:
    """The served articles as the engine reads them: the published version's text."""
    return [
        ArticleText(code=a.code, title=a.live.title, answer=a.live.answer, keywords=tuple(a.live.keywords))
        for a in served_articles(day).order_by("code")
        if a.live is not None
    ]


@dataclass
class _Cached:
    stamp: tuple[Any, ...]
    checked: float
    engine: Suggester


_cached: _Cached | None = None
_building: tuple[Any, ...] | None = None  # the stamp a background build is working towards
# Up to this many served articles an engine is rebuilt in the request that finds it stale
# (48 articles: under 2 s). Above it (5,000 articles: ~30 s) the previous engine keeps
# answering while a thread builds the next, and its suggestions are checked against the
# articles served now, so nothing expired or withdrawn is ever suggested meanwhile.
SYNC_BUILD_MAX_ARTICLES = 500


def _stamp() -> tuple[Any, ...]:
    """What changes whenever the served set can: every change to an article (a move of state
    too) appends an entry to its history."""
    row = Article.objects.aggregate(n=Count("pk"), last=Max("updated_at"), live=Max("live_id"))
    entry = ArticleVersion.objects.aggregate(last=Max("pk"))["last"]
    return (row["n"], row["last"], row["live"], entry, today())


def _build_in_background(stamp: tuple[Any, ...], texts: list[ArticleText]) -> None:
    global _cached, _building

    def build() -> None:
        global _cached, _building
        try:
            built = build_engine(texts)
        finally:
            with _lock:
                if _building == stamp:
                    _building = None
        with _lock:
            _cached = _Cached(stamp, time.monotonic(), built)

    _building = stamp
    threading.Thread(target=build, name="knowledge-engine-build", daemon=True).start()


def _current() -> tuple[Suggester, bool]:
    """The engine to answer with, and whether it was built from the articles served now.
    The articles' stamp is asked on every call (one aggregate query)."""
    global _cached
    stamp = _stamp()
    with _lock:
        if _cached is not None and _cached.stamp == stamp:
            return _cached.engine, True
        stale = _cached
    texts = served_texts()
    with _lock:
        limit = setting("MINSHENG_KNOWLEDGE_SYNC_BUILD_MAX", SYNC_BUILD_MAX_ARTICLES)
        if stale is None or len(texts) <= limit:
            _cached = _Cached(stamp, time.monotonic(), build_engine(texts))
            return _cached.engine, True
        if _building != stamp:
            _build_in_background(stamp, texts)
        return stale.engine, False


def engine() -> Suggester:
    """The engine for the articles served now, built once per process and rebuilt when an
    article changes (or the day turns, which can end an article's validity)."""
    while True:
        suggester, fresh = _current()
        if fresh:
            return suggester
        time.sleep(0.5)  # a command wants the current engine: wait for the build


def forget() -> None:
    """Drop the process's engine (after a change, so the next suggestion sees it)."""
    global _cached
    with _lock:
        _cached = None


def suggest_answers(text: str) -> dict[str, Any]:
    """Up to three articles for a caller's words, with scores and whether to answer. While a
    large knowledge base's engine is rebuilt, the previous one answers and its suggestions
    are kept only if their articles are still served (the first one gone: not answerable)."""
    suggester, fresh = _current()
    suggestion = suggester.suggest(text)
    if fresh or not suggestion.articles:
        return suggestion.as_dict()
    codes = [a.code for a in suggestion.articles]
    served = set(served_articles().filter(code__in=codes).values_list("code", flat=True))
    kept = [a for a in suggestion.articles if a.code in served]
    answerable = suggestion.answerable and codes[0] in served
    return replace(suggestion, articles=kept, answerable=answerable).as_dict()


def visible(actor: Actor) -> QuerySet[Article]:
    return visible_articles(actor).select_related("owner_unit", "matter")


@dataclass(frozen=True)
class Usage:
    """How an article serves callers: the cases answered on the spot with it, the
    requesters' ratings of those answers, when it was last used and last reviewed (its last
    publication, or the last load of the city's file)."""

    answered: int
    rated: int
    satisfied: int  # satisfied or basically satisfied
    unsatisfied: int
    last_used: dt.datetime | None
    last_reviewed: dt.datetime | None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


GOOD_RATINGS = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)


def usage(article: Article) -> Usage:
    """Read from the cases' timelines (``answered_on_the_spot`` entries naming the article's
    code, and the ``rate`` entries of those cases) and the article's history."""
    answered = CaseEvent.objects.filter(action="answered_on_the_spot", data__article=article.code)
    used = answered.aggregate(n=Count("case_id", distinct=True), last=Max("at"))
    ratings = CaseEvent.objects.filter(action="rate", case_id__in=answered.values("case_id")).aggregate(
        n=Count("pk"),
        good=Count("pk", filter=Q(data__rating__in=list(GOOD_RATINGS))),
        bad=Count("pk", filter=Q(data__rating=Rating.UNSATISFIED)),
    )
    reviewed = article.versions.filter(action__in=("publish", "load")).aggregate(last=Max("at"))["last"]
    return Usage(used["n"], ratings["n"], ratings["good"], ratings["bad"], used["last"], reviewed)
