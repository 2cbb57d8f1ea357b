"""GET /healthz, /readyz and /metrics.

They are answered by casedesk.ops.middleware.OpsMiddleware before the rest of the
middleware runs, so a load balancer probing by IP address is not refused by ALLOWED_HOSTS,
no session is opened, and no redirect to HTTPS gets in the way; they are in the URLconf too
(casedesk.ops.urls), so they are listed like every other URL.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from casedesk.core.net import client_ip
from casedesk.ops import metrics
from casedesk.ops.probes import readiness


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches no database, so a database outage does not
    make an orchestrator restart every web process."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    checks = readiness()
    failed = sorted(name for name, check in checks.items() if not check.ok)
    body = {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    return JsonResponse(body, status=503 if failed else 200)


def metrics_allowed(request: HttpRequest) -> bool:
    token = settings.CASEDESK_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    client = client_ip(request)
    if client is None:
        return False
    return any(client in network for network in settings.CASEDESK_METRICS_ALLOWED_NETWORKS)


@never_cache
def prometheus(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse(
            "Metrics are served only to the addresses in CASEDESK_METRICS_ALLOWED_IPS or with "
            "the bearer token in CASEDESK_METRICS_TOKEN.\n",
            status=403, content_type="text/plain; charset=utf-8",
        )
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
