"""Every API operation in the OpenAPI schema, fuzzed as each kind of user: no 5xx, answers as the schema says.

Schemathesis reads /api/schema (drf-spectacular) from the WSGI application, generates valid and
invalid requests for each operation (its boundary cases included: NUL characters, numbers past 64
bits, wrong types and shapes, unexpected methods) and sends them straight to the application (no
server), as each of the users below in turn.
"""
import datetime as dt
import itertools

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import CSRF_TOKEN, session_cookies

ROLES = ("anonymous", "citizen", "clerk", "department")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Served by the application itself, as a client of the API would read it (it needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())


@pytest.fixture
def sessions(fuzz_world):
    # As Django's test client does: the test's transaction must outlive the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield itertools.cycle([(role, session_cookies(fuzz_world[role])) for role in ROLES])
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_answers_every_input_with_a_documented_4xx_or_success(case, sessions):
    _role, cookies = next(sessions)
    cache.clear()  # the API's throttles count per user and address; they are not what this tests
    case.call_and_validate(cookies=cookies, headers={"X-CSRFToken": CSRF_TOKEN}, checks=CHECKS)




# Which record a {ref} names, by the path it is in (the first prefix that matches).
REF_KINDS = (("/api/land/", "parcel"), ("/api/licences/shares/", "share"),
             ("/api/licences/authorisations/", "authorisation"), ("/api/licences/", "licence"))


def _real_records(world) -> dict:
    """Records that exist, so that the answers' shapes (not only the errors) are checked against the schema."""
    from land_registry.models import Parcel
    from ledger.services import ledger_seal
    from licenses import selectors, services
    from licenses.models import Authorisation

    licence = selectors.licences_of(world["citizen"]).first()
    share, token = services.share_create(licence=licence, fields=[], purpose="fuzz",
                                         expires_at=timezone.now() + dt.timedelta(days=1))
    # The demo's request is pending: a department sees an authorisation once its holder has approved it.
    pending = Authorisation.objects.filter(department__code=world["department"].office).first()
    services.authorisation_approve(authorisation=pending)
    block = ledger_seal()
    return {"licence": licence.public_ref, "share": share.public_ref, "token": token,
            "authorisation": selectors.authorisations_of_department(world["department"]).first().public_ref,
            "parcel": Parcel.objects.first().public_ref, "index": 0, "height": block.height,
            "size": block.tree_size}


def test_api_answers_about_real_records_as_the_schema_says(fuzz_world, sessions):
    records = _real_records(fuzz_world)
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        params = {name: records[name] for name in ("token", "index", "height") if f"{{{name}}}" in operation.path}
        if "{ref}" in operation.path:
            params["ref"] = records[next(kind for prefix, kind in REF_KINDS if operation.path.startswith(prefix))]
        query = {"q": "X01"} if operation.path == "/api/land/parcels" else (
            {"index": 0, "size": records["size"]} if operation.path.endswith("inclusion") else
            {"old": records["size"], "new": records["size"]} if operation.path.endswith("consistency") else None)
        case = operation.Case(path_parameters=params, query=query)
        statuses = set()
        for _ in ROLES:
            _role, cookies = next(sessions)
            response = case.call_and_validate(cookies=cookies, headers={"X-CSRFToken": CSRF_TOKEN}, checks=CHECKS)
            statuses.add(response.status_code)
        checked += 200 in statuses
    assert checked >= 12  # most reads answered someone with data, whose shape the schema check saw
