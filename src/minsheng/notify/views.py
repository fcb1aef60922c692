"""The pages behind the bell: my notifications, open one (marks it read), mark all read.

A person only ever sees and touches their own notifications: every query is filtered by
``request.user``, and someone else's id answers 404.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.accounts.sessions import background
from minsheng.core import clock

from .models import Notification
from .queries import unread_count

PAGE_SIZE = 30


@signed_in()
@require_GET
def notification_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    mine = Notification.objects.filter(user=actor.user).select_related("message__case")
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        mine = mine.filter(read_at__isnull=True)
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/list.html",
        {
            "page": page,
            "only_unread": only_unread,
            "unread_total": unread_count(actor.user),
        },
    )


@background  # polled every minute by an open page: not the person's activity
@signed_in()
@require_GET
def bell(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The bell alone, for pages that refresh it (HTMX polling)."""
    return render(request, "notify/_bell.html", {"notify_unread": unread_count(actor.user)})


def _safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@signed_in()
@require_POST
def mark_read(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Mark one notification read and go where it points (or back to the list)."""
    note = get_object_or_404(Notification, pk=pk, user=actor.user)
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=clock.now())
    if request.POST.get("go") == "1":
        target = _safe_next(request, note.url)
        if target:
            return HttpResponseRedirect(target)
    return redirect(_safe_next(request, request.POST.get("next", "")) or "notify:list")


@signed_in()
@require_POST
def mark_all_read(request: HttpRequest, actor: Actor) -> HttpResponse:
    Notification.objects.filter(user=actor.user, read_at__isnull=True).update(read_at=clock.now())
    return redirect(_safe_next(request, request.POST.get("next", "")) or "notify:list")
