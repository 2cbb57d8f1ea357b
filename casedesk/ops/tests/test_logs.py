"""JSON logs with a request id: every line logged while a request is served carries it,
and the response returns it in X-Request-ID."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from casedesk.ops.logs import JsonFormatter, RequestIdFilter

log = logging.getLogger("casedesk.tests.ops")


def chatty(request: HttpRequest) -> HttpResponse:
    log.warning("first line")
    log.warning("second line, %s", "with an argument")
    return HttpResponse("ok")


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("chatty/", chatty), path("broken/", broken)]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The console handler as settings build it with CASEDESK_LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@override_settings(ROOT_URLCONF=__name__)
def test_every_line_of_a_request_carries_its_generated_id(
    client: Client, json_lines: io.StringIO
) -> None:
    response = client.get("/chatty/")

    rid = response["X-Request-ID"]
    assert len(rid) == 32
    records = [r for r in lines(json_lines) if r["logger"] == "casedesk.tests.ops"]
    assert [r["message"] for r in records] == ["first line",
                                                "second line, with an argument"]
    assert {r["request_id"] for r in records} == {rid}
    assert all(r["level"] == "WARNING" and r["time"] for r in records)
    # A second request gets another id
    assert client.get("/chatty/")["X-Request-ID"] != rid


@override_settings(ROOT_URLCONF=__name__)
def test_the_callers_request_id_is_kept(client: Client, json_lines: io.StringIO) -> None:
    response = client.get("/chatty/", HTTP_X_REQUEST_ID="lb-7f3a9c.42")

    assert response["X-Request-ID"] == "lb-7f3a9c.42"
    assert {r["request_id"] for r in lines(json_lines)
            if r["logger"] == "casedesk.tests.ops"} == {"lb-7f3a9c.42"}


@override_settings(ROOT_URLCONF=__name__)
def test_a_forged_request_id_is_replaced(client: Client, json_lines: io.StringIO) -> None:
    forged = 'x" level=ERROR\n{"fake": 1}'
    response = client.get("/chatty/", HTTP_X_REQUEST_ID=forged)

    assert response["X-Request-ID"] != forged and len(response["X-Request-ID"]) == 32
    assert all("fake" not in r for r in lines(json_lines))


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_one_json_line_with_the_id_and_traceback(
    json_lines: io.StringIO,
) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/broken/", HTTP_X_REQUEST_ID="req-500")

    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-500"
    [error] = [r for r in lines(json_lines) if r["logger"] == "django.request"]
    assert error["request_id"] == "req-500"
    assert "RuntimeError: boom" in error["exc_info"]


def test_lines_outside_a_request_have_a_null_id(json_lines: io.StringIO) -> None:
    log.warning("from a job")
    [record] = [r for r in lines(json_lines) if r["logger"] == "casedesk.tests.ops"]
    assert record["request_id"] is None


@override_settings(ROOT_URLCONF=__name__)
def test_the_access_log_has_one_line_per_request_with_its_id(
    client: Client, json_lines: io.StringIO
) -> None:
    # Given the access log on (CASEDESK_ACCESS_LOG=true sets this level)
    access = logging.getLogger("casedesk.access")
    saved = access.level
    access.setLevel(logging.INFO)
    try:
        response = client.get("/chatty/?secret=not-logged", HTTP_X_REQUEST_ID="req-42")
    finally:
        access.setLevel(saved)

    [line] = [r for r in lines(json_lines) if r["logger"] == "casedesk.access"]
    assert line["request_id"] == response["X-Request-ID"] == "req-42"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/chatty/", 200)
    assert line["route"] == "chatty/" and line["duration_ms"] >= 0
    assert "not-logged" not in json.dumps(line)
