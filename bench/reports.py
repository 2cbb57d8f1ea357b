"""The reports benchmark (issue 5, point 8): the 90-day report, on SQLite and PostgreSQL.

    python -m bench.reports [--db sqlite|postgres|both] [--cases 100000] [--keep]

For each database: a fresh data directory (and database) migrated by `casedesk migrate`,
then `--cases` cases spread over three years (as the 1,000,000-case target is), written in
bulk in a process of their own: messages (the description, the first agent reply, notes,
follow-ups), the first-response and resolution SLA clocks as the actions would have left
them (met, met late, breached, waiting, cancelled), and escalations from all four sources.
Events are not written: no report reads them.

Then, in a fresh process: `casedesk.reports.build()` for the last 90 days (all sections,
no rendering), five times (the first cold), per section, and with an organization and a
plan filter; the page as the view renders it (the six charts are separate requests, timed
apart); and the query plans of each section's queries. Target (issue 5): the 90-day
report under 2 s at 1,000,000 cases. Rows are appended to bench/results/<time>-reports.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 2.0
FIRST_ID = 100_001
SPAN_DAYS = 3 * 365
REPORT_DAYS = 90
CHUNK = 50_000
# (first-response target in minutes per priority 1-4) of the seeded plans.
FIRST_RESPONSE = {"Standard": (120, 480, 4320, 5760), "Premium": (60, 240, 2880, 4320)}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")
    import django

    django.setup()


# ---------------------------------------------------------------- inside casedesk's settings


def seed(cases: int, rng_seed: int) -> dict[str, Any]:
    _setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.seed import FIRST, LAST, Rows
    from casedesk.accounts.models import Organization, User
    from casedesk.escalation.models import Escalation
    from casedesk.sla.models import Clock, Plan
    from casedesk.tickets.models import CaseCounter, Category, Message, Ticket

    rng = random.Random(rng_seed)
    t0 = time.perf_counter()
    now = timezone.now()

    def when(value: datetime | None) -> Any:
        if value is None:
            return None
        if connection.vendor == "sqlite":
            return str(value.astimezone(UTC).replace(tzinfo=None))
        return value

    plans = {plan.name: plan for plan in Plan.objects.all()}
    category_ids = [*Category.objects.values_list("pk", flat=True), None]
    organizations_n = max(10, min(2000, cases // 500))
    agents_n = max(5, min(200, cases // 5000))
    unusable = make_password(None)
    with transaction.atomic():
        organizations = Organization.objects.bulk_create([
            Organization(name=f"Report Partner {n:04d}",
                         plan=plans["Premium" if n % 3 == 0 else "Standard"],
                         email_domains=f"rp{n:04d}.bench.example")
            for n in range(organizations_n)
        ])
        agents = User.objects.bulk_create([
            User(email=f"ragent{n}@support.bench.example", password=unusable,
                 full_name=f"{FIRST[n % len(FIRST)]} {LAST[(n * 7) % len(LAST)]} {n}",
                 role=User.Role.AGENT)
            for n in range(agents_n)
        ])
        contacts = User.objects.bulk_create([
            User(email=f"rcontact{n}@{org.email_domains}", password=unusable,
                 full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                 role=User.Role.CONTACT, organization=org)
            for n in range(organizations_n * 4)
            for org in [organizations[n % organizations_n]]
        ])
        plan_of = {org.pk: org.plan for org in organizations}
        agent_ids = [a.pk for a in agents]
        requesters = [(c.pk, c.organization_id) for c in contacts]

        tickets = Rows(Ticket, [
            "id", "subject", "requester", "organization", "category", "priority", "status",
            "channel", "assignee", "escalation_level", "created_at", "updated_at",
            "last_message_at", "resolved_at", "closed_at",
        ])
        messages = Rows(Message, ["id", "ticket", "author", "kind", "body", "channel",
                                  "created_at"])
        clocks = Rows(Clock, [
            "ticket", "kind", "plan", "priority", "started_at", "target_seconds", "due_at",
            "breached_at", "met_at", "cancelled_at", "paused_at",
        ])
        escalations = Rows(Escalation, [
            "ticket", "from_level", "to_level", "source", "reason", "actor", "assigned_to",
            "nobody_on_shift", "created_at",
        ])
        counts = {"cases": 0, "messages": 0, "clocks": 0, "escalations": 0}

        def flush() -> None:
            # In chunks: a million cases' rows held at once would take gigabytes.
            for name, rows in (("cases", tickets), ("messages", messages), ("clocks", clocks),
                               ("escalations", escalations)):
                counts[name] += rows.write()
                rows.rows = []

        created = sorted(
            now - timedelta(seconds=rng.randint(600, SPAN_DAYS * 86400)) for _ in range(cases)
        )
        message_id = 0
        sources = ["portal", "phone", "agent", "sla"]
        for n, opened in enumerate(created):
            case_id = FIRST_ID + n
            requester, org_id = rng.choice(requesters)
            plan = plan_of[org_id]
            priority = rng.choices([1, 2, 3, 4], [10, 35, 35, 20])[0]
            target = FIRST_RESPONSE[plan.name][priority - 1] * 60
            agent = rng.choice(agent_ids)
            age = now - opened
            # Old cases are nearly all done; a tail stays open (the backlog over 30 days).
            done_chance = 0.97 if age > timedelta(days=30) else (
                0.6 if age > timedelta(days=3) else 0.2)
            done = rng.random() < done_chance
            # Most first responses come well within the target; a few late, a few never.
            answered_in = timedelta(seconds=int(target * rng.lognormvariate(-1.2, 0.9)))
            answered = opened + answered_in
            if answered > now or (not done and rng.random() < 0.1):
                answered = None
            status = (rng.choice(["resolved", "closed", "closed"]) if done else
                      "new" if answered is None else
                      rng.choice(["open", "open", "pending", "on_hold"]))
            resolved = None
            if done:
                resolved = min((answered or opened) + timedelta(hours=rng.randint(1, 120)), now)
            last = resolved or answered or opened
            channel = rng.choice(["portal", "portal", "portal", "email", "email", "phone",
                                  "api"])
            level = 1
            tickets.add(
                case_id, "Resolver slow for some subscribers", requester, org_id,
                rng.choice(category_ids), priority, status, channel,
                None if answered is None else agent, level, when(opened), when(last),
                when(answered or opened), when(resolved),
                when(resolved) if status == "closed" else None,
            )
            message_id += 1
            messages.add(message_id, case_id, requester, "public",
                         "Since this morning our resolvers time out.", channel, when(opened))
            if answered is not None:
                message_id += 1
                messages.add(message_id, case_id, agent, "public",
                             "We are looking into it.", "portal", when(answered))
                if rng.random() < 0.3:
                    message_id += 1
                    messages.add(message_id, case_id, agent, "internal",
                                 "Checked the resolver pool.", "portal",
                                 when(min(answered + timedelta(minutes=20), now)))
                if rng.random() < 0.5 and answered + timedelta(hours=3) < last:
                    message_id += 1
                    messages.add(message_id, case_id, requester, "public", "Still failing.",
                                 channel, when(answered + timedelta(hours=2)))
                    message_id += 1
                    messages.add(message_id, case_id, agent, "public", "Fixed now.",
                                 "portal", when(answered + timedelta(hours=3)))
            due = opened + timedelta(seconds=target)
            late = answered is None and due <= now or (answered is not None and answered > due)
            cancelled = when(resolved) if done and answered is None else None
            clocks.add(case_id, "first_response", plan.pk, priority, when(opened), target,
                       when(due), when(due) if late else None, when(answered), cancelled,
                       when(last) if status == "pending" and answered is None else None)
            resolution = target * 24
            clocks.add(case_id, "resolution", plan.pk, priority, when(opened), resolution,
                       when(opened + timedelta(seconds=resolution)), None, when(resolved),
                       None, None)
            if rng.random() < 0.06:
                at = min(opened + timedelta(hours=rng.randint(1, 30)), now)
                source = "sla" if late and rng.random() < 0.6 else rng.choice(sources)
                escalations.add(case_id, 1, rng.choice([2, 2, 2, 3]), source,
                                "Needs a senior engineer.",
                                None if source == "sla" else agent, None, True, when(at))
            if (n + 1) % CHUNK == 0:
                flush()
        flush()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Message]):
                cursor.execute(sql)
        CaseCounter.objects.update_or_create(pk=1, defaults={"last_value": FIRST_ID + cases})
    seeded_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"vendor": connection.vendor, **counts, "organizations": organizations_n,
            "agents": agents_n, "seed_s": round(seeded_s, 1),
            "analyze_s": round(time.perf_counter() - t1, 1)}


def _explain(queryset: Any) -> str:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    return "\n".join(str(row[-1]) for row in rows)


def _timed(function: Any, runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - t0) * 1000)
    return times, result


def measure(runs: int) -> dict[str, Any]:
    _setup()
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.db.models import Count, F
    from django.test import RequestFactory
    from django.utils import timezone

    from casedesk import reports
    from casedesk.accounts.models import Organization, User
    from casedesk.reports import charts, queries, views
    from casedesk.sla.models import Plan

    today = timezone.now().date()
    start, end = today - timedelta(days=REPORT_DAYS - 1), today
    whole, build = _timed(lambda: reports.build(start, end), runs)
    result: dict[str, Any] = {
        "vendor": connection.vendor,
        "build_ms_cold": round(whole[0], 1),
        "build_ms_median": round(statistics.median(whole[1:]), 1),
        "build_ms_max": round(max(whole[1:]), 1),
    }
    period = queries.Period(start, end, ZoneInfo("UTC"))
    scope, now = queries.Scope(), timezone.now()
    result["sections_ms"] = {
        name: round(statistics.median(_timed(
            lambda name=name: queries.compute(name, period, scope, now), 3)[0]), 1)
        for name in queries.SECTIONS
    }
    busiest = Organization.objects.order_by("pk").first()
    premium = Plan.objects.get(name="Premium")
    org_times, _ = _timed(lambda: reports.build(start, end, organization=busiest), 3)
    plan_times, _ = _timed(lambda: reports.build(start, end, plan=premium), 3)
    result["org_ms_median"] = round(statistics.median(org_times), 1)
    result["plan_ms_median"] = round(statistics.median(plan_times), 1)
    result["rows"] = {name: len(table.rows) for name, table in build.sections.items()}
    result["sla_totals"] = build.sections["sla"].totals

    agent = User.objects.filter(role=User.Role.AGENT).order_by("pk").first()
    factory = RequestFactory()

    def page() -> Any:
        request = factory.get("/desk/reports/", {"start": start.isoformat(),
                                                 "end": end.isoformat()})
        request.user = agent
        response = views.index(request)
        assert response.status_code == 200, response.status_code
        return response

    page_times, _ = _timed(page, 3)
    result["page_ms_median"] = round(statistics.median(page_times), 1)
    chart_times, _ = _timed(lambda: [charts.render(t) for t in build.sections.values()], 3)
    result["charts_ms_median"] = round(statistics.median(chart_times), 1)

    from casedesk.sla.models import Clock
    from casedesk.tickets.models import Message, Ticket

    since, until = period.since, period.until
    first = Clock.objects.filter(kind="first_response")
    agent_ids = list(User.objects.filter(role=User.Role.AGENT).values_list("pk", flat=True))
    result["explain"] = {
        "sla": _explain(first.filter(started_at__gte=since, started_at__lt=until)
                        .values("plan_id", "priority").annotate(n=Count("pk"))),
        "agents_messages": _explain(
            Message.objects.filter(created_at__gte=since, created_at__lt=until,
                                   author__role="agent")
            .values("author_id", "kind").annotate(n=Count("pk"))),
        "agents_first_responses": _explain(
            first.filter(met_at__gte=since, met_at__lt=until, ticket__messages__kind="public",
                         ticket__messages__author_id__in=agent_ids,
                         ticket__messages__created_at__gte=since - timedelta(hours=1),
                         ticket__messages__created_at__lte=F("met_at"))
            .values("ticket__messages__author_id", "met_at")),
        "resolved": _explain(Ticket.objects.filter(resolved_at__gte=since,
                                                   resolved_at__lt=until)
                             .values("assignee_id").annotate(n=Count("pk"))),
        "volume": _explain(Ticket.objects.filter(created_at__gte=since, created_at__lt=until)
                           .values("category_id", "channel").annotate(n=Count("pk"))),
        "backlog": _explain(Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
                            .values("status").annotate(n=Count("pk"))),
    }
    return result


# ---------------------------------------------------------------- the orchestrator


def _child(target: Any, *args: str, timeout: float = 7200) -> dict[str, Any]:
    from bench.target import run_child

    return run_child("bench.reports", target, *args, timeout=timeout)


def run_db(vendor: str, cases: int, runs: int, keep: bool) -> dict[str, Any]:
    from bench.target import Target

    target = Target(vendor, keep=keep)
    try:
        print(f"\n== reports on {vendor}: data in {target.data_dir}", flush=True)
        target.create()
        print(f"   seeding {cases:,} cases over {SPAN_DAYS} days", flush=True)
        seeded = _child(target, "seed", "--cases", str(cases))
        print(f"   seeded in {seeded['seed_s']} s (+ ANALYZE {seeded['analyze_s']} s): "
              f"{seeded['messages']:,} messages, {seeded['clocks']:,} clocks, "
              f"{seeded['escalations']:,} escalations; {target.size_mb()} MB", flush=True)
        measured = _child(target, "measure", "--runs", str(runs))
        return {**seeded, **measured, "db_mb": target.size_mb()}
    finally:
        target.cleanup()


def report(rows: list[dict[str, Any]]) -> None:
    print(f"\n== the {REPORT_DAYS}-day report (issue 5 target: under {TARGET_S:.0f} s at "
          "1,000,000 cases)")
    for r in rows:
        verdict = "meets" if r["build_ms_median"] < TARGET_S * 1000 else "MISSES"
        print(f"{r['vendor']}, {r['cases']:,} cases: build() {r['build_ms_median']} ms median "
              f"(cold {r['build_ms_cold']} ms, max {r['build_ms_max']} ms) {verdict}; "
              f"one organization {r['org_ms_median']} ms, one plan {r['plan_ms_median']} ms; "
              f"the page {r['page_ms_median']} ms; six charts {r['charts_ms_median']} ms")
        print("   per section (ms): " + ", ".join(f"{k} {v}" for k, v in
                                                   r["sections_ms"].items()))
        print(f"   SLA totals: {r['sla_totals']}")
        for name, plan in r["explain"].items():
            print(f"   EXPLAIN {name}:\n      " + plan.replace("\n", "\n      "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "seed", "measure"])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "seed":
        print(json.dumps(seed(args.cases, args.seed)))
        return 0
    if args.command == "measure":
        print(json.dumps(measure(args.runs), default=str))
        return 0
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rows = []
    for vendor in dbs:
        rows.append(run_db(vendor, args.cases, args.runs, args.keep))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-reports.jsonl"
    with open(out, "a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({"reports": row}, default=str) + "\n")
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
