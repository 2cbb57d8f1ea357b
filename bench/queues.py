"""Server-side time of the desk's queue views on an already seeded database (issue 5).

    CASEDESK_DATA_DIR=... [CASEDESK_DATABASE_URL=...] python -m bench.queues [--runs 40]

Run against a database that `python -m bench.seed` filled. The seed writes no SLA clocks,
escalations or teams, so the first run adds them, the way a desk in use has them: each
open case gets its running clocks (first response for new cases, resolution for the
others; paused while waiting on the customer), one open case in twenty is at level 2
with its Escalation, and the agents are spread over the levels' teams. Then each view
is requested `--runs` times through Django's test client, in-process (the whole request:
middleware, session, queries, template), signed in as the benchmark's agent, and p50 and
p99 printed in milliseconds, with the SQL queries one request makes.

The printed rows are what the report quotes; EXPLAIN plans come from --explain.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import timedelta

VIEWS_BEFORE = ["open", "mine", "unassigned", "escalated", "breaching", "all"]


def top_up() -> None:
    """Clocks, escalations and teams for a seeded database, once."""
    from django.db import transaction

    from casedesk.accounts.models import User
    from casedesk.escalation.models import Escalation, Level
    from casedesk.sla.models import Clock, Plan
    from casedesk.tickets.models import Ticket

    if Clock.objects.exists():
        return
    rng = random.Random(5)
    t0 = time.perf_counter()
    plans = {p.pk: p for p in Plan.objects.all()}
    default = next(p for p in plans.values() if p.is_default)
    targets = {"first_response": {1: 2, 2: 8, 3: 72, 4: 96}, "resolution": {1: 24, 2: 72,
                                                                                3: 240, 4: 480}}
    agents = list(User.objects.filter(role="agent").order_by("pk"))
    levels = {level.number: level for level in Level.objects.all()}
    with transaction.atomic():
        for n, agent in enumerate(agents):
            levels[1 if n < len(agents) // 2 else 2 if n < len(agents) * 4 // 5 else 3]\
                .team.add(agent)
        rows = []
        escalate = []
        open_cases = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).values_list(
            "pk", "status", "priority", "created_at", "organization__plan_id")
        for pk, status, priority, created, plan_id in open_cases.iterator(chunk_size=5000):
            kind = "first_response" if status == "new" else "resolution"
            hours = targets[kind][priority]
            # Spread over the last two years, most are long overdue; the newest are not.
            due = created + timedelta(hours=hours)
            rows.append(Clock(
                ticket_id=pk, kind=kind, plan=plans.get(plan_id or 0, default),
                priority=priority, started_at=created, target_seconds=hours * 3600,
                due_at=due, paused_at=created if status == "pending" else None,
            ))
            if rng.random() < 0.05:
                escalate.append((pk, created))
        Clock.objects.bulk_create(rows, batch_size=2000)
        Ticket.objects.filter(pk__in=[pk for pk, _ in escalate]).update(escalation_level=2)
        Escalation.objects.bulk_create([
            Escalation(ticket_id=pk, from_level=1, to_level=2, source="agent",
                       reason="bench", created_at=created + timedelta(hours=1))
            for pk, created in escalate
        ], batch_size=2000)
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"# topped up: {len(rows)} clocks, {len(escalate)} escalations "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def scenarios(new_code: bool) -> list[tuple[str, dict[str, str]]]:
    from casedesk.accounts.models import Organization

    org = Organization.objects.order_by("pk").values_list("pk", flat=True)[3]
    views = ["open", "mine", "unassigned", "team", "breaching", "escalated", "pending", "all"]
    rows = [(f"view {v}", {"view": v}) for v in (views if new_code else VIEWS_BEFORE)]
    rows += [
        ("open by priority", {"sort": "priority"}),
        ("filtered: high, one org", {"priority": "1", "organization": str(org)}),
        ("filtered: high, unassigned", {"priority": "1", "assignee": "none"}),
    ]
    if new_code:
        rows += [
            ("filtered: plan + channel", {"plan": "2", "channel": "email"}),
            ("filtered: created range", {"view": "all", "created_from": "2025-06-01",
                                         "created_to": "2025-06-30"}),
        ]
    return rows


def measure(runs: int, explain: bool) -> None:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import override_settings

    from casedesk.accounts.models import User

    new_code = os.path.exists(os.path.join(os.path.dirname(__file__), "..", "casedesk",
                                           "desk", "cursor.py"))
    client = Client()
    client.force_login(User.objects.get(email="agent1@support.bench.example"))
    print(f"{connection.vendor} {'new' if new_code else 'before'} code; runs={runs}")
    # cpu: this process's CPU time per request (the whole request on SQLite; PostgreSQL's
    # own work is outside it). On a shared, loaded host wall time mostly measures the
    # wait for a core; CPU time barely moves with the load.
    print(f"{'scenario':34} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'queries':>8}")
    for name, params in scenarios(new_code):
        client.get("/desk/", params)  # warm: caches, prepared plans
        times, cpu = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get("/desk/", params)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, response.status_code
        with override_settings(DEBUG=True):
            reset_queries()
            response = client.get("/desk/", params)
            queries = list(connection.queries)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        rows = len(re.findall(r'<td class="num"><a href="/desk/cases/', response.content.decode()))
        print(f"{name:34} {statistics.median(times):8.1f} {p99:8.1f} "
              f"{statistics.median(cpu):8.1f} {len(queries):8d}"
              f"  rows={rows}")
        if explain:
            for query in queries:
                sql = query["sql"]
                if "tickets_ticket" not in sql and "sla_clock" not in sql:
                    continue
                print("   ", sql[:300])
                prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
                with connection.cursor() as cursor:
                    cursor.execute(prefix + sql)
                    for line in cursor.fetchall():
                        print("      ", " ".join(str(x) for x in line)[:200])
        # Page 2 through the cursor, when the page offers one.
        next_link = re.search(r'href="\?([^"]+)" rel="next"', response.content.decode())
        if new_code and next_link:
            query = next_link.group(1).replace("&amp;", "&")
            times, cpu = [], []
            for _ in range(runs):
                t0, c0 = time.perf_counter(), time.process_time()
                client.get("/desk/?" + query)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            print(f"{'  next page':34} {statistics.median(times):8.1f} "
                  f"{sorted(times)[min(len(times) - 1, int(len(times) * 0.99))]:8.1f} "
                  f"{statistics.median(cpu):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    top_up()
    measure(args.runs, args.explain)


if __name__ == "__main__":
    main()


