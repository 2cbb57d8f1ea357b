"""The first middleware: a request id for every request, request metrics, and the probes.

The request id is the caller's X-Request-ID when it is a sane token (a proxy or load
balancer's), else a new one; it is set for every log line written while the request is
served (casedesk.ops.logs) and returned in the response's X-Request-ID header.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from casedesk.ops import views
from casedesk.ops.context import choose_request_id, request_id
from casedesk.ops.metrics import LATENCY, REQUESTS

access_log = logging.getLogger("casedesk.access")

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": views.healthz,
    "/readyz": views.readyz,
    "/metrics": views.prometheus,
}


class OpsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = choose_request_id(request.headers.get("X-Request-ID"))
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            probe = PROBES.get(request.path_info)
            if probe is not None and request.method in {"GET", "HEAD"}:
                response = probe(request)
                route = request.path_info.lstrip("/")
            else:
                response = self.get_response(request)
                match = request.resolver_match
                # The URL pattern, not the path: one series per page, not per case.
                route = match.route if match is not None else "<unmatched>"
            elapsed = time.perf_counter() - started
            method = request.method if request.method in KNOWN_METHODS else "other"
            REQUESTS.labels(method, route, str(response.status_code)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            response["X-Request-ID"] = rid
            access_log.info(
                "%s %s %s %.1f ms", request.method, request.path,
                response.status_code, elapsed * 1000,
                extra={"method": request.method, "path": request.path,
                       "status": response.status_code, "duration_ms": round(elapsed * 1000, 1),
                       "route": route},
            )
            return response
        finally:
            request_id.reset(token)


# Anything else is counted as "other", so a client inventing methods cannot add series.
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
