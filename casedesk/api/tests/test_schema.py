"""Schemathesis against the live schema, over real HTTP: a live server, the schema it
serves at /api/v1/schema/, and every operation fuzzed with an agent's token and a contact's
(valid and invalid data, on unknown ids and on a case the token may see). No answer may be
a server error, every answer must be what the schema says (status, content type, body,
headers), and invalid data must be refused with a 4xx (in JSON bodies: a form body
cannot carry a null or a number, only their text). (Schemathesis's check that valid
data is never refused is left out: the schema cannot say that `assignee` must be an agent
who exists, and such a request gets a 400 naming the field.)

Bounded: at most MAX_EXAMPLES examples per operation and mode, and the whole run stops
after TIME_CAP seconds (the operations left are then named in the failure message, so a
slow run is never mistaken for a clean one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from casedesk.accounts.models import User
from casedesk.accounts.tokens import create_token
from casedesk.conftest import make_agent, make_case, make_contact, make_org, png_upload

MAX_EXAMPLES = 12
TIME_CAP = 420


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def live_url() -> Iterator[str]:
    """casedesk's WSGI application on a real socket of 127.0.0.1, a thread per request.

    Not pytest-django's live_server: its media-file handler needs a MEDIA_URL, and casedesk
    has none on purpose (uploads are served only through views that check permissions).
    """
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_docs_and_schema_are_served_without_a_cdn(live_url: str) -> None:
    schema = requests.get(f"{live_url}/api/v1/schema/", timeout=30)
    assert schema.status_code == 200 and "openapi: 3" in schema.text
    docs = requests.get(f"{live_url}/api/v1/docs/", timeout=30)
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert "cdn" not in docs.text.lower() and "unpkg" not in docs.text.lower()
    redoc = requests.get(f"{live_url}/api/v1/redoc/", timeout=30)
    assert redoc.status_code == 200 and "/static/drf_spectacular_sidecar/" in redoc.text


def fuzz(base: str, secret: str, case_id: int) -> list[str]:
    # Authentication through schemathesis's own config, so that it knows which requests
    # carry the token (and which it sends without, expecting a 401).
    config = SchemathesisConfig.from_dict(
        {"auth": {"openapi": {"bearerAuth": {"bearer": secret}}}}
    )
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/schema/", config=config, timeout=30)
    failures: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 12
    for operation in operations:
        fixed = [{}, {"case_id": case_id}] if "{case_id}" in operation.path else [{}]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in fixed:
                if time.monotonic() - started > TIME_CAP:
                    failures.append(f"time cap reached before {operation.label} {mode}")
                    continue
                strategy = operation.as_strategy(generation_mode=mode,
                                                 path_parameters=path_parameters or None)

                @given(case=strategy)
                @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                          phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=list(HealthCheck))
                def check(case: Any) -> None:
                    excluded = [positive_data_acceptance]
                    if (case.media_type or "").startswith("multipart/"):
                        # A form body is text: the null or the number schemathesis means
                        # to send arrives as the text "null" or "12", which is valid text.
                        # Such requests are still checked for server errors and answers
                        # off the schema; an empty form field is tested in test_cases.
                        excluded.append(negative_data_rejection)
                    case.call_and_validate(base_url=base, timeout=30, excluded_checks=excluded)

                try:
                    check()
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together
                    failures.append(f"{operation.label} [{mode}]: {exc}"[:3000])
    return failures


@pytest.fixture
def fuzz_settings(settings: Any) -> None:
    settings.CASEDESK_API_RATE_LIMIT = 1_000_000


@pytest.mark.parametrize("role", ["agent", "contact"])
def test_schemathesis_finds_no_server_error_and_no_answer_off_schema(
    live_url: str, fuzz_settings: None, role: str
) -> None:
    org = make_org("Gulf Net", plan="Premium", domains="gulfnet.example")
    contact = make_contact(org, email="noor@gulfnet.example")
    user: User = make_agent(is_staff=True) if role == "agent" else contact
    ticket = make_case(contact, files=[png_upload()]).ticket
    secret = create_token(user, name="fuzz").secret
    failures = fuzz(live_url, secret, ticket.pk)
    assert failures == [], "\n\n".join(failures)
