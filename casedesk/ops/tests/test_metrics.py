"""GET /metrics: who may read it, and what a Prometheus server reads there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from casedesk.conftest import make_case, make_contact, make_org
from casedesk.core.tests.holding_jobs import hold
from casedesk.mail.models import InboundMessage
from casedesk.sla.models import Clock


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text) for s in family.samples
    }


def scrape(client: Client, **extra: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


def test_metrics_are_refused_to_other_addresses(db: Any, client: Client) -> None:
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert b"CASEDESK_METRICS_ALLOWED_IPS" in response.content
    assert b"casedesk_" not in response.content


def test_metrics_answer_an_allowed_network(db: Any, client: Client, settings: Any) -> None:
    import ipaddress

    settings.CASEDESK_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.3.4").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_metrics_answer_the_bearer_token_from_anywhere(db: Any, client: Client,
                                                       settings: Any) -> None:
    settings.CASEDESK_METRICS_TOKEN = "s3cret-scrape-token"
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.9",
                    HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9",
                       HTTP_AUTHORIZATION="Bearer s3cret-scrape-tokeN")
    assert ok.status_code == 200 and wrong.status_code == 403


def test_requests_are_counted_by_route_and_status(db: Any, client: Client) -> None:
    before = scrape(client)
    key = ("casedesk_http_requests_total",
           (("method", "GET"), ("route", "escalate/"), ("status", "200")))
    missing = ("casedesk_http_requests_total",
               (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))

    client.get("/escalate/")
    client.get("/escalate/")
    client.get("/no/such/page/")

    after = scrape(client)
    assert after[key] - before.get(key, 0) == 2
    assert after[missing] - before.get(missing, 0) == 1
    count = ("casedesk_http_request_duration_seconds_count",
             (("method", "GET"), ("route", "escalate/")))
    assert after[count] - before.get(count, 0) == 2


def test_queue_sla_and_mail_figures_come_from_the_database(
    db: Any, client: Client, tmp_path: Any
) -> None:
    # Given two waiting jobs (one for ten minutes), a breached and a warned SLA target,
    # and inbound mail, one message of which was quarantined
    job = hold.enqueue(str(tmp_path))
    hold.enqueue(str(tmp_path))
    DBTaskResult.objects.filter(pk=job.id).update(
        enqueued_at=timezone.now() - timedelta(minutes=10)
    )
    ticket = make_case(make_contact(make_org())).ticket
    clock = Clock.objects.filter(ticket=ticket).first()
    assert clock is not None
    Clock.objects.filter(pk=clock.pk).update(warned_at=timezone.now(),
                                             breached_at=timezone.now())
    for status in ("processed", "quarantined"):
        InboundMessage.objects.create(
            raw=b"Subject: hi\r\n\r\nhello", size=20, sha256=status.ljust(64, "0"),
            envelope_from="a@example.org", source="smtp", status=status,
        )

    figures = scrape(client)

    assert figures[("casedesk_jobs", (("queue", "default"), ("status", "READY")))] >= 2
    assert figures[("casedesk_job_queue_lag_seconds", (("queue", "default"),))] >= 600
    assert figures[("casedesk_sla_breaches_total", (("target", clock.kind),))] == 1
    assert figures[("casedesk_sla_warnings_total", (("target", clock.kind),))] == 1
    # every other target is there from zero, so that a first breach graphs as an increase
    for kind in set(Clock.Kind.values) - {clock.kind}:
        assert figures[("casedesk_sla_breaches_total", (("target", kind),))] == 0
    assert figures[("casedesk_inbound_mail_accepted_total", ())] == 2
    assert figures[("casedesk_inbound_mail_quarantined_total", ())] == 1
    assert figures[("casedesk_database_up", ())] == 1


def test_behind_a_trusted_proxy_metrics_judge_the_visitor_not_the_proxy(
    db: Any, client: Client, settings: Any
) -> None:
    import ipaddress

    # Given a reverse proxy on loopback, which the default allow-list (loopback) admits
    settings.CASEDESK_TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]

    # When a visitor from outside comes through it, and a scraper on loopback directly
    outside = client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                         HTTP_X_FORWARDED_FOR="203.0.113.9")
    local = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    # Then only the scraper reads the metrics
    assert outside.status_code == 403
    assert local.status_code == 200
