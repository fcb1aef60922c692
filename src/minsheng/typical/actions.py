"""What changes a typical case: nominate a closed case, prepare its public words and photos
(personal data removed), approve it (another person than the editor; published on the public
page), withdraw it. Each in one transaction; nominating and publishing are written in the
case's log through the case kernel."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.cases.scoping import visible_cases
from minsheng.cases.states import State
from minsheng.core import clock
from minsheng.core.text import NUL, clean_text
from minsheng.media.models import Photo

from . import rules
from .models import TypicalCase, TypicalState
from .redact import leaks, redact

TITLE_MAX = 80
STORY_MAX = 600  # a few lines


def _text(field: str, value: str, *, limit: int, required: bool = True) -> str:
    if NUL in (value or ""):
        raise Invalid(field, _("Remove the control characters."))
    text = clean_text(value or "").strip()
    if required and not text:
        raise Invalid(field, _("This is needed."))
    if len(text) > limit:
        raise Invalid(field, _("At most %(n)d characters.") % {"n": limit})
    return text


def nominate(actor: Actor, case_id: int, *, reason: str = "") -> TypicalCase:
    """Propose a closed case the actor may see."""
    if actor.role not in rules.NOMINATE_ROLES or actor.user is None:
        raise Forbidden(_("You may not nominate typical cases."))
    why = _text("reason", reason, limit=STORY_MAX, required=False)
    with transaction.atomic():
        case = visible_cases(actor).filter(pk=case_id).first()
        if case is None:
            raise NotFound(_("No such case."))
        if case.state != State.CLOSED or case.merged_into_id is not None:
            raise Conflict(
                _("Only a closed case can be a typical case."), state=case.state, version=case.version
            )
        if TypicalCase.objects.filter(case=case).exists():
            raise Conflict(_("This case is already nominated."), state=case.state, version=case.version)
        at = clock.now()
        typical = TypicalCase.objects.create(case=case, reason=why, nominated_by=actor.user, nominated_at=at)
        kernel.record(case, "typical_nominated", at, actor=actor, note=why)
    return typical


def _photo(case: Case, field: str, raw: int | str | None) -> Photo | None:
    if raw in (None, ""):
        return None
    try:
        pk = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise Invalid(field, _("Choose one of the case's photos.")) from exc
    photo = Photo.objects.filter(pk=pk, case=case).first()
    if photo is None:
        raise Invalid(field, _("Choose one of the case's photos."))
    return photo


def prepare(
    actor: Actor,
    typical_id: int,
    *,
    title: str,
    story: str,
    before_photo: int | str | None = None,
    after_photo: int | str | None = None,
) -> TypicalCase:
    """The editor's public words (personal data removed as they are saved) and the photos
    before and after, both of the case's own."""
    if actor.role not in rules.EDITOR_ROLES or actor.user is None:
        raise Forbidden(_("Only the centre's editors prepare typical cases."))
    with transaction.atomic():
        typical = (
            TypicalCase.objects.select_for_update(of=("self",))
            .select_related("case__place")
            .filter(pk=typical_id)
            .first()
        )
        if typical is None:
            raise NotFound(_("No such typical case."))
        if typical.state not in (TypicalState.NOMINATED, TypicalState.PREPARED):
            raise Conflict(
                _("This typical case is %(state)s.") % {"state": typical.get_state_display()},
                state=typical.state,
                version=0,
            )
        case = typical.case
        typical.title = redact(_text("title", title, limit=TITLE_MAX), case)
        typical.story = redact(_text("story", story, limit=STORY_MAX), case)
        typical.before_photo = _photo(case, "before_photo", before_photo)
        typical.after_photo = _photo(case, "after_photo", after_photo)
        typical.state = TypicalState.PREPARED
        typical.prepared_by = actor.user
        typical.prepared_at = clock.now()
        typical.approved_by = None
        typical.save()
    return typical


def approve(actor: Actor, typical_id: int) -> TypicalCase:
    """The centre publishes a prepared typical case (not the person who prepared it)."""
    if actor.role not in rules.APPROVER_ROLES or actor.user is None:
        raise Forbidden(_("Only the centre's leadership approves typical cases."))
    with transaction.atomic():
        typical = (
            TypicalCase.objects.select_for_update(of=("self",))
            .select_related("case")
            .filter(pk=typical_id)
            .first()
        )
        if typical is None:
            raise NotFound(_("No such typical case."))
        if typical.state != TypicalState.PREPARED:
            raise Conflict(_("Only a prepared typical case can be approved."), state=typical.state, version=0)
        if typical.prepared_by_id == actor.user.pk:
            raise Forbidden(_("Another person approves what you prepared."))
        found = leaks(typical.title, typical.case) + leaks(typical.story, typical.case)
        if found:  # the case changed since (its data is never edited, but be sure)
            raise Invalid("story", _("Personal data is still in the text; prepare it again."))
        at = clock.now()
        typical.state = TypicalState.PUBLISHED
        typical.approved_by = actor.user
        typical.published_at = at
        typical.save(update_fields=["state", "approved_by", "published_at"])
        kernel.record(typical.case, "typical_published", at, actor=actor, note=typical.title)
    return typical


def withdraw(actor: Actor, typical_id: int) -> TypicalCase:
    """Take a typical case off the way (or off the public page)."""
    if actor.role not in rules.EDITOR_ROLES | rules.APPROVER_ROLES:
        raise Forbidden(_("You may not withdraw typical cases."))
    with transaction.atomic():
        typical = TypicalCase.objects.select_for_update(of=("self",)).filter(pk=typical_id).first()
        if typical is None:
            raise NotFound(_("No such typical case."))
        typical.state = TypicalState.WITHDRAWN
        typical.save(update_fields=["state"])
    return typical
