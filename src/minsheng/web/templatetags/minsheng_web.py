"""Small presentation helpers: state badges, due times in words, the navigation."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from minsheng.accounts.guards import actor_of
from minsheng.accounts.models import Role
from minsheng.cases import registry
from minsheng.cases.states import ClockName, State
from minsheng.core import clock
from minsheng.core.conf import setting
from minsheng.notify.queries import unread_count

from ..roles import PUBLIC_PAGES, nav_for, page_query, split_nav, url_name

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

register = template.Library()

# Badge colour families per state (CSS classes ``badge-<tone>``).
STATE_TONE: dict[str, str] = {
    State.ACCEPTED: "new",
    State.ASSIGNED: "wait",
    State.SIGNED: "wait",
    State.DISPATCHED: "work",
    State.HANDLING: "work",
    State.FEEDBACK: "feedback",
    State.RATED: "feedback",
    State.RETURNED: "alert",
    State.CLOSED: "done",
}


@register.inclusion_tag("web/_badge.html")
def state_badge(state: str) -> dict[str, Any]:
    label: StrPromise | str
    try:
        label = State(state).label
    except ValueError:
        label = state
    return {"tone": STATE_TONE.get(state, "new"), "label": label, "state": state}


@register.filter
def state_label(state: str) -> str:
    try:
        return str(State(state).label)
    except ValueError:
        return state


@register.filter
def event_label(action: str) -> str:
    """The words for an event kind, from the one list of kinds (``cases.registry``)."""
    return registry.event_label(action)


@register.filter
def clock_label(name: str) -> str:
    try:
        return str(ClockName(name).label)
    except ValueError:
        return name


def _span(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return _("under a minute")
    if minutes < 120:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@register.filter
def due_words(due: dt.datetime | None) -> str:
    """ "due in 3 minutes" or "overdue by 2 hours", against the application's clock."""
    if due is None:
        return ""
    now = clock.now()
    if due < now:
        return _("overdue by %(span)s") % {"span": _span(now - due)}
    return _("due in %(span)s") % {"span": _span(due - now)}


@register.filter
def is_past(when: dt.datetime | None) -> bool:
    return when is not None and when < clock.now()


@register.simple_tag(takes_context=True)
def navigation(context) -> dict[str, Any]:
    """The bar's links (``row``) and its "More" group (``more``, ``more_current``)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {"row": [], "more": [], "more_current": False}
    match = request.resolver_match
    current = match.view_name if match else ""
    asked = request.GET.urlencode()
    items: dict[str, dict[str, Any]] = {}
    for page, label in nav_for(actor_of(request)):
        try:
            url = reverse(url_name(page))
        except NoReverseMatch:  # an optional app that this deployment does not mount
            continue
        query = page_query(page)
        items[page] = {
            "url": f"{url}?{query}" if query else url,
            "label": label,
            "current": url_name(page) == current and (not query or query == asked),
        }
    pages = [(page, str(item["label"])) for page, item in items.items()]
    row, more = split_nav(pages)
    # A page reached with a query is current in its own link only.
    if any(items[p]["current"] and page_query(p) for p, _label in pages):
        for p, _label in pages:
            items[p]["current"] = items[p]["current"] and bool(page_query(p))
    return {
        "row": [items[p] for p, _label in row],
        "more": [items[p] for p, _label in more],
        "more_current": any(items[p]["current"] for p, _label in more),
    }


@register.simple_tag
def public_links() -> list[dict[str, str]]:
    """The public pages' links for the foot of a visitor's page."""
    out = []
    for name, label in PUBLIC_PAGES:
        try:
            out.append({"url": reverse(name), "label": str(label)})
        except NoReverseMatch:
            continue
    return out


@register.simple_tag(takes_context=True)
def query_with(context, **changes: Any) -> str:
    """The current query string with some parameters changed (for pagination links)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def city_name() -> str:
    return setting("MINSHENG_CITY_NAME", "")


@register.simple_tag(takes_context=True)
def who_am_i(context) -> dict[str, str]:
    """Name, role and unit for the header."""
    actor = actor_of(context["request"])
    try:
        role = str(Role(actor.role).label) if actor.role else _("No role")
    except ValueError:
        role = str(actor.role)
    return {"name": actor.label, "role": role, "unit": actor.unit.name if actor.unit else ""}


@register.filter
def is_soon(due: dt.datetime | None) -> bool:
    """Due within the next half hour (shown amber)."""
    return due is not None and due - clock.now() < dt.timedelta(minutes=30)


@register.simple_tag(takes_context=True)
def bell(context) -> dict[str, Any]:
    """The notification bell, when this deployment mounts ``minsheng.notify``'s pages:
    the unread count from its context processor, or counted here if that is not set up."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {"mounted": False}
    try:
        reverse("notify:list")
    except NoReverseMatch:
        return {"mounted": False}
    unread = context.get("notify_unread")
    if unread is None:
        unread = unread_count(request.user)
    return {"mounted": True, "unread": unread}


@register.filter
def selecting(options: str, value: Any) -> SafeString:
    """``<option>``s rendered once for a page, with ``value``'s selected: a queue of 25
    rows renders its unit and matter lists once, not 25 times."""
    if value in (None, ""):
        return mark_safe(options)  # noqa: S308 -- our own rendered template
    needle = f'<option value="{escape(value)}">'
    return mark_safe(options.replace(needle, f'<option value="{escape(value)}" selected>', 1))  # noqa: S308
