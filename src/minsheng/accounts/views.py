"""The API tokens page (``/account/tokens/``): a person's own tokens, to create (the token is
shown once), see (made, expires, last used, state) and revoke; an administrator sees and
revokes everyone's. The same as ``minsheng createtoken`` and ``minsheng tokens``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from minsheng.core import clock

from .actions import create_token, revoke_token, token_days
from .actors import Actor
from .guards import signed_in
from .models import ApiToken
from .queries import manages_tokens, tokens_visible_to

SHOWN = 200  # rows on the page, newest first


def _page(request: HttpRequest, actor: Actor, *, new_token: str = "", status: int = 200) -> HttpResponse:
    at = clock.now()
    admin = manages_tokens(actor.user)
    tokens = tokens_visible_to(actor.user)
    wanted = request.GET.get("user", "").strip() if admin else ""
    if wanted:
        tokens = tokens.filter(user__username=wanted)
    rows = [{"token": t, "state": t.state(at)} for t in tokens[:SHOWN]]
    context = {
        "rows": rows,
        "admin": admin,
        "wanted_user": wanted,
        "new_token": new_token,
        "days": token_days(),
        "name_max": ApiToken._meta.get_field("name").max_length,
    }
    return render(request, "accounts/tokens.html", context, status=status)


@signed_in()
@require_GET
@never_cache
def tokens_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, actor)


@signed_in()
@require_POST
@never_cache
def new_token(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A new token for the person signed in, shown on the answer once (never stored)."""
    raw = create_token(actor.user, name=request.POST.get("name", ""))
    return _page(request, actor, new_token=raw, status=201)


@signed_in()
@require_POST
def revoke(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    try:
        token = revoke_token(actor.user, pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return redirect("accounts:tokens")
