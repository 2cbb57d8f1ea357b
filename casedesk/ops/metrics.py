"""Prometheus metrics.

Two kinds, each kept where it is correct:

- Request counts and latencies are counted in the web processes as requests are served.
  gunicorn runs several processes, so these use prometheus_client's multiprocess mode:
  `casedesk web` and `casedesk serve` point PROMETHEUS_MULTIPROC_DIR at a fresh directory
  before the processes fork, each process writes its samples there, and a scrape adds
  them up (casedesk.ops.gunicorn_conf marks the files of a process that exited).
- Everything about the work itself (job queue depth and lag, SLA warnings and breaches,
  inbound mail accepted and quarantined) is counted from the database at scrape time: the
  database is the one place every worker, web node and mail listener on every machine
  writes to, so any web node answers with the same, whole-installation figures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, Min, Q
from django.db.utils import DatabaseError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "casedesk_http_requests_total", "HTTP requests answered, by method, route and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "casedesk_http_request_duration_seconds",
    "Time from the request reaching casedesk to its response, by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def oldest_ready(now: datetime) -> dict[str, datetime]:
    """Per queue, since when its oldest runnable job has been waiting."""
    never = get_date_max()
    ready = DBTaskResult.objects.ready()
    waiting: dict[str, datetime] = {}
    # A job with no run_after waits since it was enqueued; a delayed one since its time came.
    for row in ready.filter(run_after=never).values("queue_name").annotate(
        since=Min("enqueued_at")
    ):
        waiting[row["queue_name"]] = row["since"]
    for row in ready.exclude(run_after=never).values("queue_name").annotate(
        since=Min("run_after")
    ):
        queue = row["queue_name"]
        waiting[queue] = min(waiting.get(queue, row["since"]), row["since"])
    return waiting


def queue_lag_seconds(now: datetime | None = None) -> float:
    """How long the oldest runnable job of any queue has waited (0 when none waits)."""
    now = now or timezone.now()
    return max(((now - since).total_seconds() for since in oldest_ready(now).values()),
               default=0.0)


class DatabaseCollector(Collector):
    """Figures counted from the database at scrape time (see the module's docstring)."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        # All figures or none: a scrape during a database outage still answers (with the
        # request metrics) and says the database was down.
        try:
            families = list(self.families())
        except DatabaseError:
            families = []
        yield GaugeMetricFamily("casedesk_database_up",
                                "1 when this scrape could read the database.",
                                value=1 if families else 0)
        yield from families

    def families(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        from casedesk.mail.models import InboundMessage
        from casedesk.sla.models import Clock

        now = timezone.now()
        jobs = GaugeMetricFamily(
            "casedesk_jobs", "Jobs waiting (READY) and being run (RUNNING), by queue.",
            labels=["queue", "status"],
        )
        counts = {(q, s): 0 for q in ("default", "mail") for s in ("READY", "RUNNING")}
        rows = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).values(
            "queue_name", "status").annotate(n=Count("id"))
        for row in rows:
            counts[(row["queue_name"], row["status"])] = row["n"]
        for (queue, status), n in sorted(counts.items()):
            jobs.add_metric([queue, status], n)
        yield jobs

        lag = GaugeMetricFamily(
            "casedesk_job_queue_lag_seconds",
            "How long the oldest runnable job has waited for a worker, by queue.",
            labels=["queue"],
        )
        waiting = oldest_ready(now)
        for queue in sorted({q for q, _ in counts} | set(waiting)):
            since = waiting.get(queue)
            lag.add_metric([queue], (now - since).total_seconds() if since else 0.0)
        yield lag

        # Two counts, each over its partial index (clock_warned_kind, clock_breached_kind):
        # one pass over every clock took half a second at a million cases, every scrape.
        counted = {
            field: dict(
                Clock.objects.filter(**{f"{field}__isnull": False}).order_by()
                .values("kind").annotate(n=Count("*")).values_list("kind", "n")
            )
            for field in ("warned_at", "breached_at")
        }
        warnings = CounterMetricFamily(
            "casedesk_sla_warnings", "SLA targets that reached their warning time, by target.",
            labels=["target"],
        )
        breaches = CounterMetricFamily(
            "casedesk_sla_breaches", "SLA targets breached, by target.", labels=["target"],
        )
        # Every target, counted or not: a series that appears only once something happened
        # cannot be graphed as an increase from zero.
        kinds = {*Clock.Kind.values, *counted["warned_at"], *counted["breached_at"]}
        for kind in sorted(kinds):
            warnings.add_metric([kind], counted["warned_at"].get(kind, 0))
            breaches.add_metric([kind], counted["breached_at"].get(kind, 0))
        yield warnings
        yield breaches

        inbound = InboundMessage.objects.aggregate(
            accepted=Count("id"),
            quarantined=Count("id", filter=Q(status=InboundMessage.Status.QUARANTINED)),
        )
        yield CounterMetricFamily(
            "casedesk_inbound_mail_accepted",
            "Inbound messages accepted (SMTP, LMTP, IMAP, import) and kept.",
            value=inbound["accepted"],
        )
        yield CounterMetricFamily(
            "casedesk_inbound_mail_quarantined",
            "Inbound messages that could not be turned into a case or reply (quarantined).",
            value=inbound["quarantined"],
        )


def render() -> tuple[bytes, str]:
    """The exposition text for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every web process's request samples, added up from their files.
        multiprocess.MultiProcessCollector(registry)
    else:
        # One process (`runserver`, the test client): its own counters.
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(DatabaseCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
