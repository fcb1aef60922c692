"""API v1 against its own OpenAPI document (schemathesis): every operation, fed generated
valid and invalid requests as staff (a Bearer token), as a device (``X-Api-Key``) and as the
telephone system (a signed event), answers no server error, only status codes its document
names, and bodies of the documented type and shape.

Time-bounded for CI (``make test`` runs it): a fixed number of examples per operation,
derandomized so that a run repeats, about a minute on two cores. Path identifiers are drawn
half the time from the cases and devices that exist, so the actions reach real cases in
several states instead of answering 404 to every guess.
"""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from minsheng.api.api import api
from minsheng.calls import signing
from minsheng.cases import actions
from minsheng.cases.schemas import CaseAction
from minsheng.cases.states import ACTIONS
from minsheng.sensors import credentials
from tests.common.factories import City
from tests.integration.test_sensors import make_devices

CTI_SECRET = "contract-cti-secret"
# The partners that sign their bodies the same way: 110 (transfer) and the provincial platform.
PARTNER_SECRETS = {
    "/api/v1/transfer/incoming": "contract-110-secret",
    "/api/v1/transfer/receipts": "contract-110-secret",
    "/api/v1/province/cases": "contract-province-secret",
}
EXAMPLES_PER_OPERATION = 30

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = WSGIHandler()

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]

# What exists in the test's database, for the path identifiers (set by the fixture).
EXISTING: dict[str, list[Any]] = {"case_id": [], "device_id": [], "command_id": []}


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict[str, Any] | None):
    """Half the time, an identifier of something that exists instead of the generated one."""
    if not path_parameters:
        return st.just(path_parameters)
    choices = {
        name: st.sampled_from([value, *EXISTING[name]])
        for name, value in path_parameters.items()
        if EXISTING.get(name) and isinstance(value, int | str)
    }
    if not choices:
        return st.just(path_parameters)
    return st.fixed_dictionaries(choices).map(lambda chosen: {**path_parameters, **chosen})


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection across requests, as Django's test client does:
    the WSGI handler would close it at the end of each one."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _cases(city) -> list[int]:
    """Cases in several states: waiting to be signed, signed, handled (feedback given)."""
    lat, lng = City.POINTS["east.a"]
    made = []
    for n in range(3):
        case = actions.accept_case(
            city.actor("operator"),
            actions.Intake(
                channel="hotline",
                text=f"人行道上的窨井盖破了第{n}处",
                lat=lat,
                lng=lng,
                category="road.manhole",
                requester_phone="13812345678",
            ),
        )
        made.append(case.pk)
    roads = city.actor("roads")
    actions.sign_case(roads, made[1])
    actions.sign_case(roads, made[2])
    actions.dispatch_case(roads, made[2], people=["王师傅"])
    actions.feedback_case(roads, made[2], note="已更换井盖")
    return made


@pytest.fixture
def callers(city, now, settings, in_test_transaction):
    settings.MINSHENG_CTI_SECRET = CTI_SECRET
    settings.MINSHENG_TRANSFER_110_SECRET = PARTNER_SECRETS["/api/v1/transfer/incoming"]
    settings.MINSHENG_PROVINCE_SECRET = PARTNER_SECRETS["/api/v1/province/cases"]
    out = StringIO()
    call_command("createtoken", "admin", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    outfall, node = make_devices(city)
    EXISTING["case_id"] = _cases(city)
    EXISTING["device_id"] = [outfall.device_id, node.device_id]
    yield {"Authorization": f"Bearer {token}", "X-Api-Key": credentials.issue_api_key(device=outfall)}
    for found in EXISTING.values():
        found.clear()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    # One database per operation, set up once for all its examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_keeps_its_contract(case, callers):
    headers = dict(callers)
    sent: dict[str, Any] = {}
    if case.path == "/api/v1/calls/events" and not isinstance(case.body, schemathesis.core.NotSet):
        # The telephone system signs the raw body it sends.
        body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        headers.update(signing.signed_headers(CTI_SECRET, body))
        sent["data"] = body
    elif case.path in PARTNER_SECRETS and not isinstance(case.body, schemathesis.core.NotSet):
        body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        headers.update(signing.signed_headers(PARTNER_SECRETS[case.path], body))
        sent["data"] = body
    case.call_and_validate(headers=headers, checks=CHECKS, **sent)


def test_the_documented_actions_are_the_case_actions():
    assert CaseAction.__args__ == ACTIONS
    documented = schema["/api/v1/cases/{case_id}/actions/{action}"]["POST"].definition.raw
    (action,) = [p for p in documented["parameters"] if p["name"] == "action"]
    assert tuple(action["schema"]["enum"]) == ACTIONS
