"""Errors as RFC 9457 problem details (`application/problem+json`).

Every error the API answers has `type`, `title`, `status` and `detail`; a validation error
adds `errors`, one entry per problem with the field it is about (`field`, a JSON pointer
style path such as `sla.due_at`, or null for the request as a whole) and a message a
person can act on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

logger = logging.getLogger("casedesk.api")

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://casedesk.example/problems/"

TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Server error",
}
SLUGS = {
    400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 406: "not-acceptable", 409: "conflict", 413: "too-large",
    415: "unsupported-media-type", 422: "unprocessable", 429: "rate-limited",
    500: "server-error",
}


class JsonOnly(BaseContentNegotiation):
    """Every answer is JSON, whatever the Accept header asks for: a client asking for
    HTML (a browser) gets JSON rather than a 406 it cannot read."""

    def select_parser(self, request: Request, parsers: Iterable[Any]) -> Any:
        content_type = request.content_type.split(";")[0].strip().lower()
        for parser in parsers:
            if parser.media_type == content_type:
                return parser
        return None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


class Problem(exceptions.APIException):
    """An error with a status and a message of our choosing (409 for a refused action,
    422 for a reused Idempotency-Key)."""

    def __init__(self, status_code: int, detail: str, *, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.errors = errors
        self.headers = headers or {}


def field_errors(detail: Any, path: str = "") -> list[dict[str, Any]]:
    """DRF's nested error detail as a flat list of {field, message}."""
    found: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for name, value in detail.items():
            key = "" if name in ("non_field_errors", "detail") else str(name)
            found += field_errors(value, f"{path}.{key}" if path and key else (key or path))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                found += field_errors(value, f"{path}.{index}" if path else str(index))
            else:
                found += field_errors(value, path)
    else:
        found.append({"field": path or None, "message": str(detail)})
    return found


def problem_body(status_code: int, detail: str, errors: list[dict[str, Any]] | None = None,
                 instance: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + SLUGS.get(status_code, "error"),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(status_code: int, detail: str, *, errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None, instance: str = "") -> Response:
    return Response(
        problem_body(status_code, detail, errors, instance), status=status_code,
        headers=headers, content_type=PROBLEM_TYPE,
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    from casedesk.api.cases import Moved  # the API's modules import this one

    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, Moved):
        return Response({"detail": str(exc), "merged_into": exc.case_id}, status=308,
                        headers={"Location": exc.location})
    if isinstance(exc, Http404):
        # One answer for a missing thing and a thing this token may not see.
        return problem_response(404, str(exc) or "Not found.", instance=instance)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        return problem_response(413, "The request body is too large.", instance=instance)
    if isinstance(exc, SuspiciousOperation):
        # Django's multipart limits (too many fields or files) and malformed requests.
        return problem_response(400, f"{exc} Nothing was changed.", instance=instance)
    if isinstance(exc, Problem):
        return problem_response(exc.status_code, str(exc.detail), errors=exc.errors,
                                headers=exc.headers, instance=instance)
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        detail = "The request has errors; nothing was changed. See `errors`."
        if len(errors) == 1:
            detail = f"{errors[0]['message']} Nothing was changed."
        return problem_response(400, detail, errors=errors, instance=instance)
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        raw = exc.detail
        text = str(raw) if not isinstance(raw, dict | list) else "Invalid request."
        listed = field_errors(raw) if isinstance(raw, dict | list) else None
        status_code = exc.status_code
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            status_code = status.HTTP_401_UNAUTHORIZED
        return problem_response(status_code, text, errors=listed, headers=headers,
                                instance=instance)
    # A bug: logged with its traceback, answered as a problem rather than an HTML page.
    logger.exception("API error on %s", instance, exc_info=exc)
    return problem_response(500, "Something went wrong on our side; nothing you sent is "
                            "lost if you send it again with the same Idempotency-Key.",
                            instance=instance)


@csrf_exempt  # API clients send no CSRF token; this view changes nothing
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/v1/ address that names no endpoint, whatever the method."""
    return JsonResponse(
        problem_body(404, "There is no such API endpoint. The schema at /api/v1/schema/ "
                     "lists them.", instance=request.path),
        status=404, content_type=PROBLEM_TYPE,
    )
