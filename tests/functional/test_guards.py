"""One guard for every page (``accounts.guards.signed_in``): signed-out people go to the
sign-in page, over HTMX by ``HX-Redirect`` (never a sign-in page swapped into a fragment),
and a person whose role does not have the page is refused, over HTMX with a 403 (never a
redirect)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db

# One guarded page of each app that has pages behind the sign-in.
GUARDED = ("web:queue", "stats:index", "notify:bell", "field:tasks", "sensors:devices", "public:partners")


def client_for(city, name: str) -> Client:
    c = Client()
    assert c.login(username=city.users[name].username, password=PASSWORD)
    return c


@pytest.mark.parametrize("page", GUARDED)
def test_signed_out_goes_to_the_sign_in_page_and_over_htmx_by_hx_redirect(city, page):
    url = reverse(page)
    plain = Client().get(url)
    assert plain.status_code == 302 and plain.url.startswith(reverse("web:login"))
    htmx = Client().get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/inbox/")
    assert htmx.status_code == 204
    assert htmx["HX-Redirect"] == f"{reverse('web:login')}?next=%2Finbox%2F"


def test_a_role_without_the_page_is_refused_over_htmx_with_403_not_a_redirect(city):
    leader = client_for(city, "leader")
    assert leader.get(reverse("web:intake")).status_code == 302  # to the person's own page
    assert leader.get(reverse("web:intake"), HTTP_HX_REQUEST="true").status_code == 403
    operator = client_for(city, "operator")
    assert operator.get(reverse("stats:index"), HTTP_HX_REQUEST="true").status_code == 403
    assert (
        client_for(city, "dispatcher").get(reverse("field:tasks"), HTTP_HX_REQUEST="true").status_code == 403
    )


def test_signed_in_without_a_role_the_sensor_pages_do_not_exist(city):
    get_user_model().objects.create_user(username="nobody", password=PASSWORD)
    c = Client()
    assert c.login(username="nobody", password=PASSWORD)
    assert c.get(reverse("sensors:devices")).status_code == 404
    assert c.get(reverse("web:home")).status_code == 403
