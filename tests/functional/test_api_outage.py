"""A database outage reaches API clients as JSON ``503`` with ``Retry-After``, never as a
server's HTML page: on every operation of the OpenAPI document, whether the database is gone
before the caller is known or drops in the middle of a change (which then writes nothing)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory

from minsheng.accounts.actions import create_token
from minsheng.api.api import api
from minsheng.api.errors import server_error
from minsheng.calls.signing import signed_headers
from minsheng.cases.models import Case, CaseEvent
from tests.common.factories import City

pytestmark = pytest.mark.django_db

EAST_A = dict(zip(("lat", "lng"), City.POINTS["east.a"], strict=True))
MANHOLE = {"channel": "hotline", "text": "人行道井盖破了", **EAST_A, "category": "road.manhole"}


@contextmanager
def database_down(when: Callable[[str], bool] = lambda sql: True, error=OperationalError) -> Iterator[None]:
    """Every query for which ``when(sql)`` holds fails as a lost server's would."""

    def refuse(execute, sql, params, many, context):
        if when(sql):
            raise error("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


def assert_503(response) -> None:
    assert response.status_code == 503, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    assert json.loads(response.content)["detail"]


def operations() -> list[tuple[str, str, set[str]]]:
    """Every (method, path, security schemes) of the published document, path parameters
    filled in."""
    paths = api.get_openapi_schema()["paths"]
    return [
        (method, re.sub(r"\{[^}]+\}", "1", path), {name for s in op.get("security", []) for name in s})
        for path, ops in paths.items()
        for method, op in ops.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def call(client: Client, method: str, path: str, **headers: str):
    if method == "get":
        return client.get(path, headers=headers)
    return getattr(client, method)(path, "{}", content_type="application/json", headers=headers)


def signed_bodies(at: str) -> dict[str, tuple[str, str]]:
    """For each operation a partner system signs (the telephone system, 110, the provincial
    platform): its secret and a valid body, so that the request reaches the database."""
    return {
        "/api/v1/calls/events": (
            "the-telephone-system's-secret",
            json.dumps(
                {"event_id": "e1", "event": "ring", "call_id": "c1", "at": at, "caller": "13800000000"}
            ),
        ),
        "/api/v1/transfer/incoming": (
            "the-110-secret",
            json.dumps({"police_ref": "J1", "item": "1.1", "text": "噪音扰民", "sent_at": at}),
        ),
        "/api/v1/transfer/receipts": (
            "the-110-secret",
            json.dumps({"event_id": "r1", "transfer": "T1", "status": "received", "at": at}),
        ),
        "/api/v1/transfer/outgoing/1": ("the-110-secret", ""),
        "/api/v1/province/cases": (
            "the-province-secret",
            json.dumps({"province_id": "P1", "text": "路灯不亮"}),
        ),
    }


SIGNED_SCHEMES = {"CtiSignature", "PoliceSignature", "PlatformSignature"}


def test_every_operation_answers_503_json_when_the_database_is_gone(city, now, settings):
    settings.MINSHENG_CTI_SECRET = "the-telephone-system's-secret"
    settings.MINSHENG_TRANSFER_110_SECRET = "the-110-secret"
    settings.MINSHENG_PROVINCE_SECRET = "the-province-secret"
    signed = signed_bodies(now().isoformat())
    ops = operations()
    assert len(ops) >= 15
    assert {path for _m, path, schemes in ops if schemes & SIGNED_SCHEMES} == set(signed)
    token = create_token(city.users["operator"])
    browser = Client(raise_request_exception=False)
    browser.force_login(city.users["operator"])
    client = Client(raise_request_exception=False)
    for error in (OperationalError, InterfaceError):
        with database_down(error=error):
            for method, path, schemes in ops:
                if "SensorKeyAuth" in schemes:  # a device's key
                    assert_503(call(client, method, path, **{"X-Api-Key": "msk_a-device-key"}))
                elif schemes & SIGNED_SCHEMES:  # a partner system's signed request
                    secret, body = signed[path]  # a GET signs its path with the query string
                    headers = signed_headers(secret, (path if method == "get" else body).encode())
                    headers.pop("Content-Type")
                    if method == "get":
                        assert_503(client.get(path, headers=headers))
                    else:
                        assert_503(client.post(path, body, content_type="application/json", headers=headers))
                else:  # a person's token, or a browser's session (writing needs its CSRF token)
                    assert_503(call(client, method, path, Authorization=f"Bearer {token}"))
                    if method == "get":
                        assert_503(call(browser, method, path))


def test_a_connection_lost_in_the_middle_of_intake_is_503_and_writes_nothing(city, now):
    token = create_token(city.users["operator"])
    client = Client(raise_request_exception=False)
    auth = {"Authorization": f"Bearer {token}"}
    writes = ("INSERT", "UPDATE")
    with database_down(when=lambda sql: sql.lstrip().upper().startswith(writes) and "cases_" in sql):
        response = client.post(
            "/api/v1/cases", json.dumps(MANHOLE), content_type="application/json", headers=auth
        )
    assert_503(response)
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0
    # Back up: the retry is taken.
    again = client.post("/api/v1/cases", json.dumps(MANHOLE), content_type="application/json", headers=auth)
    assert again.status_code == 201
    case_id = again.json()["id"]
    with database_down(when=lambda sql: "cases_caseevent" in sql and "INSERT" in sql.upper()):
        signed = client.post(
            f"/api/v1/cases/{case_id}/actions/sign",
            "{}",
            content_type="application/json",
            headers={"Authorization": f"Bearer {create_token(city.users['roads'])}"},
        )
    assert_503(signed)
    assert Case.objects.get(pk=case_id).state == "assigned"


def test_an_error_that_escapes_the_api_is_json_too(city, now, monkeypatch):
    """Whatever the API's own handlers do not answer reaches Django's ``handler500``: under
    ``/api/`` it answers JSON (503 for the database), elsewhere Django's page."""
    token = create_token(city.users["operator"])

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("minsheng.api.case_lists.visible_cases", broken)
    response = Client(raise_request_exception=False).get(
        "/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json" and response.json()["detail"]

    factory = RequestFactory()
    try:
        raise OperationalError("the server closed the connection")
    except OperationalError:
        assert_503(server_error(factory.get("/api/v1/cases")))
        page = server_error(factory.get("/queue/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
