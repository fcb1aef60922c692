"""Every change to the knowledge base (知识库): named actions, one transaction each, that
check the actor's right (403) and the article's state (409), change the article, append its
history (``ArticleVersion``) and, for the worker's pass, write the outbox.

* the owner unit's handler (or the centre) drafts: :func:`create_article`,
  :func:`update_article` (an edit of a published or expired article opens a new draft while
  the published version keeps answering callers), :func:`submit_article`;
* the city centre reviews: :func:`publish_article`, :func:`return_article`,
  :func:`expire_article`;
* the worker: :func:`expiry_pass` reminds the owner unit ``MINSHENG_KNOWLEDGE_REMIND_DAYS``
  days before an article's valid-until date and expires it the day after;
* loading a city's articles: :func:`load_articles` (``minsheng loadknowledge``);
* answering a caller from an article (直接答复 / 即时办结): :func:`answer_on_the_spot` records
  a case closed at once with the article and its version on its timeline,
  :func:`send_answer_by_sms` sends the answer (again), :func:`rate_answer` takes the
  requester's rating of it. The case changes through the case kernel.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit, UnitKind
from minsheng.cases import actions as case_actions
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.kernel import Change
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.numbering import next_number
from minsheng.cases.states import Channel, ClockName, Rating, State
from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.core.conf import setting
from minsheng.core.phones import mask_phone, normalize_phone
from minsheng.core.text import NulCharacter, clean_text
from minsheng.notify.actions import enqueue

from .models import TRANSITIONS, Article, ArticleState, ArticleVersion
from .queries import forget, served_q, today
from .scoping import is_reviewer, may_act, may_create, visible_articles

DEMO_ARTICLES = Path(__file__).resolve().parent / "data" / "demo.jsonl"
TITLE_MAX = 200
ANSWER_MAX = 2000  # what an operator reads out or sends as a few SMS
KEYWORDS_MAX = 30
KEYWORD_MAX = 40
NOTE_MAX = 500
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
REMIND_DAYS = 30  # default of MINSHENG_KNOWLEDGE_REMIND_DAYS
REMINDER_KIND = "article_expiring"


# --- input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleIn:
    """What an editor writes: the text and its frame."""

    title: str
    answer: str
    keywords: list[str] = field(default_factory=list)
    valid_until: dt.date | None = None
    matter_id: int | None = None
    owner_unit_id: int | None = None


def _no_controls(value: str, name: str) -> str:
    """Submitted text under the one rule for control characters (:mod:`minsheng.core.text`):
    a NUL is refused naming the field, the others are removed; then stripped."""
    try:
        return clean_text(value or "").strip()
    except NulCharacter as exc:
        raise Invalid(name, _("Remove the NUL character from the text.")) from exc


def _clean_text(value: str, name: str, limit: int, *, required: bool = True) -> str:
    value = _no_controls(value, name)
    if required and not value:
        raise Invalid(name, _("This field is required."))
    if len(value) > limit:
        raise Invalid(name, _("At most %(n)d characters.") % {"n": limit})
    return value


def clean_keywords(raw: Iterable[str] | str) -> list[str]:
    """Keywords from a list or from text separated by commas, 、, ；, spaces or lines; kept in
    order, without repeats."""
    if isinstance(raw, str):
        raw = re.split(r"[,，、;；\s]+", raw)
    out: list[str] = []
    for word in raw:
        word = _no_controls(str(word), "keywords")
        if word and word not in out:
            if len(word) > KEYWORD_MAX:
                raise Invalid("keywords", _("A keyword has at most %(n)d characters.") % {"n": KEYWORD_MAX})
            out.append(word)
    if len(out) > KEYWORDS_MAX:
        raise Invalid("keywords", _("At most %(n)d keywords.") % {"n": KEYWORDS_MAX})
    return out


def _text_of(data: ArticleIn) -> dict[str, Any]:
    if data.valid_until is None:
        raise Invalid("valid_until", _("Give the date until which the answer holds."))
    return {
        "title": _clean_text(data.title, "title", TITLE_MAX),
        "answer": _clean_text(data.answer, "answer", ANSWER_MAX),
        "keywords": clean_keywords(data.keywords),
        "valid_until": data.valid_until,
    }


def _matter(matter_id: int | None) -> Matter | None:
    if matter_id is None:
        return None
    matter = Matter.objects.filter(pk=matter_id).first()
    if matter is None:
        raise Invalid("matter", _("No such matter."))
    return matter


def _owner(actor: Actor, unit_id: int | None) -> Unit:
    """A department writes for itself; the centre names the owner unit."""
    if not is_reviewer(actor):
        if actor.unit is None or (unit_id is not None and unit_id != actor.unit.pk):
            raise Forbidden(_("A department writes articles for its own unit only."))
        return actor.unit
    unit = Unit.objects.filter(pk=unit_id, active=True).first() if unit_id is not None else None
    if unit is None:
        raise Invalid("owner_unit", _("Choose the unit that owns the article."))
    return unit


def _next_code() -> str:
    taken = set(Article.objects.filter(code__regex=r"^K[0-9]+$").values_list("code", flat=True))
    n = len(taken) + 1
    while f"K{n:03d}" in taken:
        n += 1
    return f"K{n:03d}"


# --- history ---------------------------------------------------------------------------------


def _record(article: Article, action: str, actor: Actor, note: str = "") -> ArticleVersion:
    """Append one entry to the article's history, with its text as it stands now."""
    user = actor.user if actor.user is not None and actor.user.pk is not None else None
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        answer=article.answer,
        keywords=list(article.keywords),
        valid_until=article.valid_until,
        action=action,
        note=note[:NOTE_MAX],
        author=user,
        author_label=actor.label[:128],
        author_unit=actor.unit,
        at=article.updated_at,
    )


def _locked(actor: Actor, pk: int, action: str, expected_version: int | None = None) -> Article:
    """The article, locked, after the checks in order: visible (404), the actor's right
    (403), the state (409), the version the form was drawn from (409)."""
    article = visible_articles(actor, Article.objects.select_for_update()).filter(pk=pk).first()
    if article is None:
        raise NotFound(_("No such article."))
    if not may_act(actor, action, article):
        raise Forbidden(_("You may not do this to this article."))
    allowed, _to = TRANSITIONS[action]
    if article.state not in allowed:
        raise Conflict(
            _("The article is %(state)s: this cannot be done now.")
            % {"state": ArticleState(article.state).label},
            state=article.state,
            version=article.version,
        )
    if expected_version is not None and expected_version != article.version:
        raise Conflict(
            _("Someone else has changed this article meanwhile. Reload it to see the changes."),
            state=article.state,
            version=article.version,
        )
    return article


# --- the owner unit's part -------------------------------------------------------------------


@transaction.atomic
def create_article(actor: Actor, data: ArticleIn, *, code: str = "") -> Article:
    """A new draft (version 1) owned by the actor's unit (the centre names the owner)."""
    if not may_create(actor):
        raise Forbidden(_("Only a department's handler or the centre writes articles."))
    owner = _owner(actor, data.owner_unit_id)
    text = _text_of(data)
    code = (code or "").strip() or _next_code()
    if not CODE_PATTERN.match(code):
        raise Invalid("code", _("A code is letters, digits, '.', '-' or '_' (at most 32)."))
    if Article.objects.filter(code=code).exists():
        raise Invalid("code", _("An article with this code exists."))
    at = clock.now()
    article = Article.objects.create(
        code=code,
        owner_unit=owner,
        matter=_matter(data.matter_id),
        state=ArticleState.DRAFT,
        version=1,
        created_at=at,
        updated_at=at,
        **text,
    )
    _record(article, "create", actor)
    return article


@transaction.atomic
def update_article(
    actor: Actor, pk: int, data: ArticleIn, *, note: str = "", expected_version: int | None = None
) -> Article:
    """Save a new version of the text. A draft stays a draft; a published or expired article
    becomes a draft again (``revise``), its published version still answering callers until
    the new one is published. An article in review is returned before it is edited."""
    current = visible_articles(actor).filter(pk=pk).values_list("state", flat=True).first()
    action = "revise" if current in (ArticleState.PUBLISHED, ArticleState.EXPIRED) else "edit"
    article = _locked(actor, pk, action, expected_version)
    text = _text_of(data)
    matter = _matter(data.matter_id)
    if is_reviewer(actor) and data.owner_unit_id is not None:
        article.owner_unit = _owner(actor, data.owner_unit_id)
    article.matter = matter
    for key, value in text.items():
        setattr(article, key, value)
    article.state = TRANSITIONS[action][1]
    article.version += 1
    article.updated_at = clock.now()
    article.save()
    _record(article, action, actor, _clean_text(note, "note", NOTE_MAX, required=False))
    return article


@transaction.atomic
def submit_article(actor: Actor, pk: int, *, note: str = "", expected_version: int | None = None) -> Article:
    """Send a draft to the centre for review (送审)."""
    return _move(actor, pk, "submit", note=note, expected_version=expected_version)


# --- the centre's part -----------------------------------------------------------------------


@transaction.atomic
def publish_article(actor: Actor, pk: int, *, note: str = "", expected_version: int | None = None) -> Article:
    """Publish the version in review: from now on it is the one suggested to operators."""
    article = _locked(actor, pk, "publish", expected_version)
    if article.valid_until < today():
        raise Invalid("valid_until", _("The valid-until date has passed: return the article for a new date."))
    return _apply(article, actor, "publish", note)


@transaction.atomic
def return_article(actor: Actor, pk: int, *, note: str = "", expected_version: int | None = None) -> Article:
    """Send an article in review back to its owner unit as a draft, with the reason."""
    reason = _clean_text(note, "note", NOTE_MAX)
    return _move(actor, pk, "return", note=reason, expected_version=expected_version, required_note=True)


@transaction.atomic
def expire_article(actor: Actor, pk: int, *, note: str = "", expected_version: int | None = None) -> Article:
    """Take a published article out of use (the worker does this the day after its date)."""
    return _move(actor, pk, "expire", note=note, expected_version=expected_version)


def _move(
    actor: Actor,
    pk: int,
    action: str,
    *,
    note: str,
    expected_version: int | None,
    required_note: bool = False,
) -> Article:
    article = _locked(actor, pk, action, expected_version)
    return _apply(article, actor, action, _clean_text(note, "note", NOTE_MAX, required=required_note))


def _apply(article: Article, actor: Actor, action: str, note: str) -> Article:
    article.state = TRANSITIONS[action][1]
    article.updated_at = clock.now()
    entry = _record(article, action, actor, note)
    if action == "publish":
        article.live = entry
        article.reminded_for = None
    article.save()
    if action in ("publish", "expire"):
        transaction.on_commit(forget)  # this process suggests from the change at once
    return article


# --- the worker's pass -----------------------------------------------------------------------


@dataclass
class ExpiryReport:
    reminded: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def remind_days() -> int:
    return int(setting("MINSHENG_KNOWLEDGE_REMIND_DAYS", REMIND_DAYS))


def expiry_pass(now: dt.datetime | None = None) -> ExpiryReport:
    """Expire every published article whose valid-until date has passed, and remind the
    owner unit of each article whose date is within ``remind_days()`` (once per date), each
    article in a transaction of its own."""
    day = timezone.localtime(now or clock.now()).date()
    report = ExpiryReport()
    system = Actor.system()
    for pk in Article.objects.filter(state=ArticleState.PUBLISHED, valid_until__lt=day).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            article = Article.objects.select_for_update().filter(pk=pk, state=ArticleState.PUBLISHED).first()
            if article is None or article.valid_until >= day:
                continue
            _apply(article, system, "expire", _("The valid-until date has passed."))
            report.expired.append(article.code)
    horizon = day + dt.timedelta(days=remind_days())
    due = (
        Article.objects.filter(valid_until__gte=day, valid_until__lte=horizon)
        .exclude(state=ArticleState.EXPIRED)
        .exclude(reminded_for=F("valid_until"))
    )
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            article = Article.objects.select_for_update().select_related("owner_unit").filter(pk=pk).first()
            if article is None or article.reminded_for == article.valid_until:
                continue
            enqueue(
                REMINDER_KIND,
                unit=article.owner_unit,
                context={
                    "code": article.code,
                    "title": article.title,
                    "valid_until": article.valid_until.isoformat(),
                    "days": (article.valid_until - day).days,
                },
            )
            Article.objects.filter(pk=pk).update(reminded_for=article.valid_until)
            report.reminded.append(article.code)
    return report


# --- loading a city's articles ---------------------------------------------------------------


class KnowledgeFileError(ValueError):
    pass


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)


def read_articles(path: Path | str) -> list[dict[str, Any]]:
    """The lines of a JSON Lines file of articles (``id``, ``title``, ``answer``, ``owner``,
    ``keywords``, ``matter``, ``valid_until``), checked."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KnowledgeFileError(f"cannot read {path}: {exc}") from exc
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeFileError(f"line {n}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise KnowledgeFileError(f"line {n}: not a JSON object")
        for key in ("id", "title", "answer", "owner", "valid_until"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise KnowledgeFileError(f"line {n}: '{key}' is required")
        if not CODE_PATTERN.match(row["id"]):
            raise KnowledgeFileError(f"line {n}: bad id {row['id']!r}")
        if row["id"] in seen:
            raise KnowledgeFileError(f"line {n}: duplicate id {row['id']!r}")
        try:
            row["valid_until"] = dt.date.fromisoformat(row["valid_until"])
        except ValueError as exc:
            raise KnowledgeFileError(f"line {n}: valid_until must be YYYY-MM-DD") from exc
        if not isinstance(row.get("keywords", []), list):
            raise KnowledgeFileError(f"line {n}: keywords must be a list")
        seen.add(row["id"])
        rows.append(row)
    return rows


def _unit_named(name: str, report: LoadReport) -> Unit:
    """The unit of that name; else the one unit whose name ends with it or that it ends with
    (社会治理中心 is the city's 平湖市社会治理中心); else a new line department of the city."""
    unit = Unit.objects.filter(name=name).first()
    if unit is not None:
        return unit
    near = [
        u
        for u in Unit.objects.filter(kind__in=(UnitKind.CENTRE, UnitKind.DEPARTMENT))
        if u.name.endswith(name) or name.endswith(u.name)
    ]
    if len(near) == 1:
        return near[0]
    base = slugify(name) or "dept"  # ASCII only: a Chinese name gives nothing, hence the number
    code, n = f"kb-{base}", 1
    while Unit.objects.filter(code=code).exists():
        n += 1
        code = f"kb-{base}-{n}"
    unit = Unit.objects.create(code=code, name=name, kind=UnitKind.DEPARTMENT)
    report.new_units.append(name)
    return unit


@transaction.atomic
def _still_valid(day: dt.date, today: dt.date) -> dt.date:
    """``day`` moved forward by whole years until it is not before ``today`` (29 February
    becoming 28 February in a common year)."""
    years = 0
    moved = day
    while moved < today:
        years += 1
        try:
            moved = day.replace(year=day.year + years)
        except ValueError:
            moved = day.replace(year=day.year + years, day=28)
    return moved


def load_articles(
    path: Path | str = DEMO_ARTICLES, *, actor: Actor | None = None, keep_current: bool = False
) -> LoadReport:
    """Create or update every article of the file, published, keeping each line's ``id`` as
    the article's code. Loading the same file again changes nothing; a line whose text
    changed makes a new published version. Owners that are not units yet become line
    departments of the city; a matter code the list of matters lacks is left empty.

    ``keep_current`` (the demo city, loaded on any date): a valid-until date already passed
    moves forward by whole years, so that a demo loaded years after its file was written
    still answers callers. A city's own file is loaded as written."""
    actor = actor or Actor.system(_("Knowledge file"))
    rows = read_articles(path)
    report = LoadReport()
    matters = dict(Matter.objects.values_list("code", "pk"))
    at = clock.now()
    if keep_current:
        for row in rows:
            row["valid_until"] = _still_valid(row["valid_until"], today())
    for row in rows:
        owner = _unit_named(row["owner"].strip(), report)
        text = {
            "title": row["title"].strip()[:TITLE_MAX],
            "answer": row["answer"].strip(),
            "keywords": clean_keywords(row.get("keywords") or []),
            "valid_until": row["valid_until"],
        }
        frame = {"owner_unit_id": owner.pk, "matter_id": matters.get(row.get("matter") or "")}
        article = Article.objects.select_for_update().filter(code=row["id"]).first()
        created = article is None
        if article is None:
            article = Article(code=row["id"], version=0, created_at=at, **frame)
        same = not created and all(getattr(article, k) == v for k, v in {**text, **frame}.items())
        if same and article.state == ArticleState.PUBLISHED and article.live_id is not None:
            report.unchanged.append(article.code)
            continue
        for key, value in {**text, **frame}.items():
            setattr(article, key, value)
        if not same:  # a new version only when the text changed
            article.version += 1
        article.state = ArticleState.PUBLISHED
        article.updated_at = at
        article.reminded_for = None
        article.save()
        article.live = _record(article, "load", actor, str(Path(path).name))
        article.save(update_fields=["live"])
        (report.created if created else report.updated).append(article.code)
    transaction.on_commit(forget)
    return report


# --- answered on the spot (直接答复 / 即时办结) ------------------------------------------------

ANSWERING_ROLES = frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN})
ANSWER_KIND = "answered_on_the_spot"
SMS_KIND = "answer_sms"
CASE_TEXT_MAX = 20_000
NAME_MAX = 64


def _case_title(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 40 else one_line[:39] + "…"


def _served_article(code: str) -> Article:
    """The article by code, served today (published, not expired, within its date)."""
    article = (
        Article.objects.filter(served_q(today()), code=(code or "").strip())
        .select_related("live", "matter")
        .first()
    )
    if article is None or article.live is None:
        raise Invalid("article_code", _("No article with this code is in use."))
    return article


def _answering_unit(actor: Actor) -> Unit | None:
    """The unit that answered: the operator's own, else the city centre."""
    return actor.unit or Unit.objects.filter(kind=UnitKind.CENTRE, active=True).order_by("pk").first()


def _send_answer(ch: Change, version: ArticleVersion) -> None:
    """The article's answer to the requester's phone by SMS (the outbox's SMS channel), and
    the entry on the timeline."""
    case = ch.case
    ch.notify(
        "knowledge_answer",
        phone=case.requester_phone,
        context={
            "number": case.number,
            "code": version.article.code,
            "title": version.title,
            "answer": version.answer,
            "token": case.public_token,
        },
    )
    ch.event(
        SMS_KIND,
        note=version.title,
        data={
            "article": version.article.code,
            "version": version.number,
            "phone": mask_phone(case.requester_phone),
        },
    )


def answer_on_the_spot(
    actor: Actor,
    *,
    text: str,
    article_code: str,
    phone: str = "",
    name: str = "",
    channel: str = Channel.HOTLINE,
    send_sms: bool = False,
    after_create: Callable[[Case], object] | None = None,
) -> Case:
    """直接答复 / 即时办结: the caller's request answered on the call from a knowledge article.
    Records a case that is closed at once, in one transaction: accepted, answered (the
    article's code and the number of its published version on the timeline), closed, its
    feedback and resolve clocks met at that instant by the answering unit (the operator's),
    so that the requester's rating judges that unit. With ``send_sms`` the answer goes to
    ``phone`` by SMS; otherwise a phone given receives the case number and the follow link,
    where the requester may rate the answer (``rate_answer``). Refusals: 403 for a role that
    does not register requests, 422 naming the field (``text``, ``article_code``,
    ``phone``, ``name``, ``channel``), nothing written.

    ``after_create(case)`` runs last, in the same transaction: another part's step on the
    case just made (``calls.actions.linking_call``: the call it was answered on). What it
    raises undoes the answer too."""
    if not actor.is_system and actor.role not in ANSWERING_ROLES:
        raise Forbidden(_("Only the hotline's operators and the centre answer requests."))
    if channel not in Channel.values:
        raise Invalid("channel", _("Unknown channel."))
    body = _clean_text(text, "text", CASE_TEXT_MAX)
    who = _clean_text(name, "name", NAME_MAX, required=False)
    try:
        number = normalize_phone(phone or "") if (phone or "").strip() else ""
    except ValueError as exc:
        raise Invalid("phone", _("Not a valid phone number.")) from exc
    if send_sms and not number:
        raise Invalid("phone", _("Give the caller's phone to send the answer by SMS."))
    with transaction.atomic():
        article = _served_article(article_code)
        version = article.live
        assert version is not None  # _served_article checked it
        unit = _answering_unit(actor)
        at = clock.now()
        case = Case(
            number=next_number(at),
            channel=channel,
            text=body,
            title=_case_title(body),
            matter=article.matter,
            requester_name=who,
            requester_phone=number,
            state=State.ACCEPTED,
            owner_unit=unit,
            created_by=actor.user,
            created_at=at,
            updated_at=at,
            routing={"method": ANSWER_KIND, "article": article.code, "version": version.number},
        )
        case.save()
        ch = kernel.begin(case, actor, "accept", at)
        ch.event(from_state="", data={"channel": channel, "answered_on_the_spot": True})
        ch.start_clock(ClockName.FEEDBACK, unit=unit)
        ch.start_clock(ClockName.RESOLVE, unit=unit)
        ch.event(
            ANSWER_KIND,
            note=version.title,
            data={"article": article.code, "version": version.number, "title": version.title},
        )
        ch.meet_clock(ClockName.FEEDBACK)
        ch.meet_clock(ClockName.RESOLVE)
        case.state = State.CLOSED
        case.closed_at = at
        case.feedback_text = version.answer
        case.version += 1
        case.save()
        ch.event("close", note=_("Answered on the spot."), from_state=State.ACCEPTED)
        if send_sms:
            _send_answer(ch, version)
        elif number:
            context = {"number": case.number, "token": case.public_token}
            ch.notify("case_answered", phone=number, context=context)
        if after_create is not None:
            after_create(case)
        return case


def send_answer_by_sms(actor: Actor, case_id: int, *, expected_version: int | None = None) -> Case:
    """Send the answer of a case answered on the spot (again) to the requester's phone."""

    def check(ch: Change) -> ArticleVersion:
        if not actor.is_system and actor.role not in ANSWERING_ROLES:
            raise Forbidden(_("Only the hotline's operators and the centre answer requests."))
        answered = answer_of(ch.case)
        if answered is None:
            raise Conflict(
                _("This case was not answered on the spot."), state=ch.case.state, version=ch.case.version
            )
        if not ch.case.requester_phone:
            raise Invalid("phone", _("The case has no phone to send the answer to."))
        return answered

    with kernel.change(actor, case_id, SMS_KIND, expected_version=expected_version, check=check) as ch:
        _send_answer(ch, ch.checked)
        return ch.case


def answer_of(case: Case) -> ArticleVersion | None:
    """The article version a case was answered with on the spot, if it was."""
    entry = CaseEvent.objects.filter(case=case, action=ANSWER_KIND).order_by("pk").first()
    if entry is None:
        return None
    code, number = entry.data.get("article"), entry.data.get("version")
    return (
        ArticleVersion.objects.filter(article__code=code, number=number)
        .select_related("article")
        .order_by("-pk")
        .first()
    )


def rate_answer(case_id: int, *, rating: str, note: str = "", expected_version: int | None = None) -> Case:
    """评价 of an answer given on the spot, by the requester on the follow page: the case is
    closed already, so the rating is recorded beside it (a ``rate`` entry the satisfaction
    measure counts, judging the answering unit). "Unsatisfied" needs a reason and reopens
    the case to the answering unit (``cases.actions.reopen_case``), in the same
    transaction."""
    note = (note or "").strip()

    def check(ch: Change) -> None:
        case = ch.case
        if case.state != State.CLOSED or case.rating or answer_of(case) is None:
            raise Conflict(_("This case cannot be rated now."), state=case.state, version=case.version)
        if rating not in Rating.values:
            raise Invalid("rating", _("Choose satisfied, basically satisfied or unsatisfied."))
        if rating == Rating.UNSATISFIED and not note:
            raise Invalid("note", _("Tell us why you are not satisfied, so that it can be put right."))

    with transaction.atomic():
        with kernel.change(
            Actor.requester(),
            case_id,
            "rate_answer",
            expected_version=expected_version,
            visible=lambda _actor, _case: True,  # the follow link found it
            check=check,
        ) as ch:
            ch.case.rating = rating
            ch.case.rating_note = _clean_text(note, "note", 2000, required=False)
            ch.case.save(update_fields=["rating", "rating_note"])
            ch.bump()
            ch.event("rate", note=ch.case.rating_note, data={"rating": rating})
            case = ch.case
        if rating == Rating.UNSATISFIED and case.owner_unit_id is not None:
            case = case_actions.reopen_case(
                Actor.system(_("Requester's rating")),
                case.pk,
                note=_("The requester is not satisfied: %(reason)s") % {"reason": note},
            )
        return case
