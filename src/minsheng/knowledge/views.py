"""The knowledge base's pages: the list with its filters, an article with its versions, the
edit form for the owner unit's handler, and the centre's review buttons. Each posted form
becomes one named action of :mod:`minsheng.knowledge.actions`; a refusal is shown on the
page it came from (403 for a right the person lacks, 409 for a state that moved, 422 for
input to fix)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.accounts.models import Unit
from minsheng.cases.errors import CaseError, Forbidden, Invalid, NotFound
from minsheng.catalog.models import Matter
from minsheng.core.htmx import htmx_of, partial

from . import actions
from .forms import ArticleFilter, ArticleForm
from .models import TRANSITIONS, Article, ArticleState
from .queries import served_q, suggest_answers, today, usage, visible
from .scoping import is_reviewer, may_act, may_create

PAGE_SIZE = 50
WORKFLOW = {
    "submit": actions.submit_article,
    "publish": actions.publish_article,
    "return": actions.return_article,
    "expire": actions.expire_article,
}
DONE = {
    "submit": gettext_lazy("Sent to the centre for review."),
    "publish": gettext_lazy("Published: operators are offered this version from now on."),
    "return": gettext_lazy("Returned to the owner unit."),
    "expire": gettext_lazy("Expired: the article is no longer suggested."),
}
STATE_TONE = {
    ArticleState.DRAFT: "new",
    ArticleState.IN_REVIEW: "wait",
    ArticleState.PUBLISHED: "done",
    ArticleState.EXPIRED: "muted",
}


def _article(actor: Actor, pk: int) -> Article:
    article = visible(actor).select_related("live").filter(pk=pk).first()
    if article is None:
        raise Http404(_("No such article."))
    return article


def _tone(state: str) -> str:
    return STATE_TONE.get(ArticleState(state), "new")


@require_GET
@signed_in()
def article_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    f = ArticleFilter(request.GET)
    f.is_valid()  # a malformed filter is left out; the others apply
    d = f.cleaned_data
    qs = visible(actor)
    if d.get("q"):
        qs = qs.filter(Q(title__icontains=d["q"]) | Q(code__iexact=d["q"]) | Q(keywords__icontains=d["q"]))
    if d.get("state"):
        qs = qs.filter(state=d["state"])
    if d.get("owner"):
        qs = qs.filter(owner_unit_id=d["owner"])
    if d.get("matter"):
        qs = qs.filter(matter_id=d["matter"])
    day = today()
    by = f.expiring_by(day, actions.remind_days())
    if by is not None:
        qs = qs.filter(valid_until__lte=by).exclude(state=ArticleState.EXPIRED)
    page = Paginator(qs.order_by("code"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "a": a,
            "tone": _tone(a.state),
            "served": a.live_id is not None and a.state != ArticleState.EXPIRED and a.valid_until >= day,
            "soon": a.state != ArticleState.EXPIRED and (a.valid_until - day).days <= actions.remind_days(),
        }
        for a in page.object_list
    ]
    context: dict[str, Any] = {"page": page, "rows": rows, "f": d, "may_create": may_create(actor)}
    if partial(request) and htmx_of(request).target == "results":
        return render(request, "knowledge/_results.html", context)
    owners = Unit.objects.filter(pk__in=visible(actor).values("owner_unit")).order_by("name")
    matters = Matter.objects.filter(pk__in=visible(actor).values("matter")).order_by("code")
    context.update({"states": ArticleState.choices, "owners": owners, "matters": matters})
    return render(request, "knowledge/list.html", context)


def _detail_context(actor: Actor, article: Article) -> dict[str, Any]:
    day = today()
    served = Article.objects.filter(served_q(day), pk=article.pk).exists()
    buttons = [a for a in WORKFLOW if article.state in TRANSITIONS[a][0] and may_act(actor, a, article)]
    editable = article.state != ArticleState.IN_REVIEW and may_act(actor, "edit", article)
    return {
        "article": article,
        "tone": _tone(article.state),
        "versions": article.versions.select_related("author_unit").order_by("-id"),
        "served": served,
        "buttons": buttons,
        "editable": editable,
        "reviewer": is_reviewer(actor),
        "usage": usage(article),
    }


@require_GET
@signed_in()
def article_detail(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    return render(request, "knowledge/article.html", _detail_context(actor, _article(actor, pk)))


@require_POST
@signed_in()
def article_action(request: HttpRequest, actor: Actor, pk: int, action: str) -> HttpResponse:
    if action not in WORKFLOW:
        raise Http404(_("No such action."))
    version = request.POST.get("version")
    try:
        WORKFLOW[action](
            actor,
            pk,
            note=request.POST.get("note", ""),
            expected_version=int(version) if version and version.isdigit() else None,
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except CaseError as exc:
        article = _article(actor, pk)
        context = {**_detail_context(actor, article), "error": exc.message}
        return render(request, "knowledge/article.html", context, status=exc.status)
    messages.success(request, str(DONE[action]))
    return redirect("knowledge:article", pk=pk)


def _form_page(
    request: HttpRequest, form: ArticleForm, article: Article | None, status: int = 200, error: str = ""
) -> HttpResponse:
    context = {"form": form, "article": article, "error": error}
    return render(request, "knowledge/edit.html", context, status=status)


def _apply_invalid(form: ArticleForm, exc: Invalid) -> None:
    name = exc.field if exc.field in form.fields else None
    form.add_error(name, exc.message)


@require_http_methods(["GET", "POST"])
@signed_in()
def article_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    if not may_create(actor):
        return HttpResponse(_("Only a department's handler or the centre writes articles."), status=403)
    reviewer = is_reviewer(actor)
    if request.method == "GET":
        initial = {"valid_until": today().replace(year=today().year + 1)}
        return _form_page(request, ArticleForm(initial=initial, choose_owner=reviewer), None)
    form = ArticleForm(request.POST, choose_owner=reviewer)
    if not form.is_valid():
        return _form_page(request, form, None, status=422)
    try:
        article = actions.create_article(actor, form.article_in())
    except Invalid as exc:
        _apply_invalid(form, exc)
        return _form_page(request, form, None, status=422)
    except Forbidden as exc:
        return _form_page(request, form, None, status=403, error=exc.message)
    messages.success(request, _("Draft saved. Send it for review when it is ready."))
    return redirect("knowledge:article", pk=article.pk)


@require_http_methods(["GET", "POST"])
@signed_in()
def article_edit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    article = _article(actor, pk)
    if not may_act(actor, "edit", article):
        return HttpResponse(_("You may not edit this article."), status=403)
    reviewer = is_reviewer(actor)
    if request.method == "GET":
        initial = {
            "title": article.title,
            "answer": article.answer,
            "keywords": "，".join(article.keywords),
            "valid_until": article.valid_until,
            "matter": article.matter_id,
            "owner_unit": article.owner_unit_id,
            "version": article.version,
        }
        return _form_page(request, ArticleForm(initial=initial, choose_owner=reviewer), article)
    form = ArticleForm(request.POST, choose_owner=reviewer)
    if not form.is_valid():
        return _form_page(request, form, article, status=422)
    try:
        actions.update_article(
            actor,
            pk,
            form.article_in(),
            note=form.cleaned_data.get("note") or "",
            expected_version=form.cleaned_data.get("version"),
        )
    except Invalid as exc:
        _apply_invalid(form, exc)
        return _form_page(request, form, article, status=422)
    except CaseError as exc:
        return _form_page(request, form, article, status=exc.status, error=exc.message)
    messages.success(request, _("New version saved as a draft."))
    return redirect("knowledge:article", pk=pk)


@require_GET
@signed_in()
def ask(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Try the suggestions: the articles the engine offers for a caller's words."""
    text = (request.GET.get("text") or "").strip()[:2000]
    result = suggest_answers(text) if text else None
    codes = [a["code"] for a in result["articles"]] if result else []
    pks = dict(Article.objects.filter(code__in=codes).values_list("code", "pk"))
    if result:
        for a in result["articles"]:
            a["pk"] = pks.get(a["code"])
    context = {"text": text, "result": result}
    if partial(request):
        return render(request, "knowledge/_suggestions.html", context)
    return render(request, "knowledge/ask.html", context)
