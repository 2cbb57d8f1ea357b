"""Fill a fresh casedesk database with a realistic history, fast.

    CASEDESK_DATA_DIR=... [CASEDESK_DATABASE_URL=...] python -m bench.seed --cases 100000

Run in its own process with casedesk's settings (the benchmark starts it once per
database). Everything is written in one transaction, without actions, mail or save():
organizations and users with bulk_create, cases, messages and events with one executemany
each (see Rows), which is what makes 100,000 cases take seconds. The result is printed as
one JSON line for the orchestrator: the agent to sign in as, the case to open, the counts.

The mix: 50 partner organizations (Standard and Premium plans, one email domain each), a
few hundred contacts, 10 agents; cases spread over two years with Case IDs rising with
time, about 40% still open (new, open, waiting on the customer, on hold) and 60% resolved
or closed; each case has the requester's description and one agent message (a public reply
or, sometimes, an internal note), and the events those changes would have written.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

AGENT_PASSWORD = "bench-agent-password-2024"  # noqa: S105 - a throwaway benchmark account
AGENT_EMAIL = "agent1@support.bench.example"

PRODUCTS = ["DNS filter", "safe search", "parental profiles", "RADIUS feed", "block page",
            "reports dashboard", "subscriber API", "category database", "licence portal",
            "provisioning script", "allow-list", "mobile app", "router agent", "SSO"]
PROBLEMS = ["returns errors for", "is slow for", "ignores the settings of",
            "shows the wrong data for", "stopped working for", "times out for",
            "blocks allowed sites for", "lost the configuration of"]
WHO = ["some subscribers", "all business customers", "one test account", "our NOC team",
       "the Cairo cluster", "new sign-ups", "customers on fibre", "a reseller"]
DETAILS = ["It started after the maintenance window last night.",
           "We see HTTP 502 in the logs about once a minute.",
           "Restarting the service did not help.",
           "The problem is intermittent and hard to reproduce.",
           "Our monitoring shows latency above 3 seconds.",
           "Only subscribers with a custom profile are affected.",
           "We attached the output of the diagnostics tool.",
           "Please treat this as urgent: the regulator audits us this week."]
REPLIES = ["Thank you, we are looking into it and will update you within the hour.",
           "We found a configuration mismatch on our side and corrected it. Please check.",
           "Could you send us the subscriber IDs and a timestamp of one failure?",
           "A fix has been deployed to your cluster. Can you confirm it works now?",
           "We escalated this to our engineering team; the next update follows today."]
NOTES = ["Same pattern as the incident last month; checked the resolver pool.",
         "Customer on Premium: keep the first-response clock in mind.",
         "Asked engineering to look at the cache eviction logs."]
FIRST = ["Amira", "Omar", "Layla", "Youssef", "Nour", "Karim", "Sara", "Hassan", "Mona",
         "Tariq", "Dina", "Ali", "Rania", "Samir", "Hana", "Fares", "Lina", "Ziad"]
LAST = ["Haddad", "Mansour", "Khalil", "Nasser", "Saleh", "Farouk", "Aziz", "Rahman",
        "Jaber", "Kassem", "Darwish", "Qasim"]
# (status, weight): ~40% still open, ~60% done.
STATUSES = [("new", 8), ("open", 18), ("pending", 9), ("on_hold", 5),
            ("resolved", 15), ("closed", 45)]
PRIORITIES = [(1, 8), (2, 27), (3, 45), (4, 20)]


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _description(rng: random.Random, product: str, problem: str) -> str:
    return "\n\n".join(
        f"The {product} {problem} {rng.choice(WHO)}. " + " ".join(rng.sample(DETAILS, 2))
        for _ in range(rng.randint(1, 3))
    )


class Rows:
    """Rows of one model written through Django's connection, values adapted by its backend.

    bulk_create compiles SQL and prepares every value in Python, and SQLite's limit of 999
    parameters per statement cuts it to ~130 rows per INSERT: ~50 s for the 590,000 rows of
    100,000 cases. One prepared INSERT run by executemany (SQLite) or one COPY (PostgreSQL)
    does the same in seconds.
    """

    def __init__(self, model: Any, fields: list[str]) -> None:
        from django.db import connection

        meta = model._meta
        qn = connection.ops.quote_name
        # Columns the seed does not name still need a value when they are NOT NULL: their
        # model default (Django's defaults live in Python, not in the table), so the seed
        # keeps working as models gain fields.
        self.extra: tuple[Any, ...] = ()
        for field in meta.concrete_fields:
            if field.name in fields or field.null or field.primary_key:
                continue
            # get_default() is the field's default, or "" for text fields without one.
            default = field.get_default()
            if default is None:
                continue
            fields = [*fields, field.name]
            self.extra += (field.get_db_prep_save(default, connection),)
        columns = ", ".join(qn(meta.get_field(f).column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        self.copy_sql = f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN"
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *values: Any) -> None:
        self.rows.append(values + self.extra)

    def write(self) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # executemany costs ~80 us a row on PostgreSQL (a round trip each, even
                # pipelined); COPY streams the rows in one statement.
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                for i in range(0, len(self.rows), 20_000):
                    cursor.executemany(self.sql, self.rows[i : i + 20_000])
        return len(self.rows)


def seed(cases: int, orgs: int, contacts: int, agents: int, rng_seed: int) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from casedesk.accounts.models import Organization, User
    from casedesk.sla.models import Plan
    from casedesk.tickets.models import CaseCounter, Category, Event, Message, Ticket

    rng = random.Random(rng_seed)
    t0 = time.perf_counter()
    now = timezone.now()
    when = connection.ops.adapt_datetimefield_value
    if connection.vendor == "sqlite" and connection.timezone == UTC:
        # What the SQLite backend stores (naive UTC text), without its per-call checks: a
        # third of the seeding time went there.
        def when(value: datetime | None) -> str | None:
            return None if value is None else str(value.replace(tzinfo=None))

    as_json = connection.ops.adapt_json_value
    plans = list(Plan.objects.order_by("name"))
    category_ids = [*Category.objects.values_list("pk", flat=True), None]
    # One real hash for every agent: PBKDF2 costs ~0.5 s a call, and the bench signs in once.
    password = make_password(AGENT_PASSWORD)
    unusable = make_password(None)

    with transaction.atomic():
        organizations = Organization.objects.bulk_create([
            Organization(
                name=f"Partner {n:02d} Telecom", plan=plans[n % len(plans)],
                email_domains=f"partner{n:02d}.bench.example",
                created_at=now - timedelta(days=800),
            )
            for n in range(1, orgs + 1)
        ])
        agent_users = User.objects.bulk_create([
            User(
                email=f"agent{n}@support.bench.example", password=password,
                full_name=f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}",
                role=User.Role.AGENT, is_staff=n == 1, is_superuser=n == 1,
            )
            for n in range(1, agents + 1)
        ])
        contact_users = User.objects.bulk_create([
            User(
                email=f"contact{n}@{org.email_domains}", password=unusable,
                full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", role=User.Role.CONTACT,
                organization=org, phone=f"+971 4 {n:03d} 0000",
            )
            for n in range(1, contacts + 1)
            for org in [organizations[n % len(organizations)]]
        ])
        if agent_users[0].pk is None or contact_users[0].pk is None:
            raise SystemExit("bulk_create returned no primary keys: this backend is unsupported")
        requesters = [(u.pk, u.organization_id, u.phone) for u in contact_users]
        agent_ids = [u.pk for u in agent_users]

        tickets = Rows(Ticket, [
            "id", "subject", "requester", "organization", "organization_name_given",
            "requester_phone", "category", "priority", "status", "channel", "assignee",
            "escalation_level", "created_at", "updated_at", "last_message_at", "resolved_at",
            "closed_at",
        ])
        message_fields = [
            "id", "ticket", "author", "kind", "body", "channel", "message_id_header", "created_at"
        ]
        messages = Rows(Message, message_fields)
        events = Rows(Event, ["ticket", "kind", "actor", "data", "created_at"])

        # Case IDs rise with time, as they do when cases are opened one after another.
        span = 730 * 86400
        created = sorted(now - timedelta(seconds=rng.randint(3600, span)) for _ in range(cases))
        first_id = settings.CASEDESK_CASE_ID_START
        detail_id = first_id + cases // 2
        message_id = 0
        for n, at in enumerate(created):
            case_id = first_id + n
            requester, org_id, phone = rng.choice(requesters)
            agent = rng.choice(agent_ids)
            status = "open" if case_id == detail_id else _weighted(rng, STATUSES)
            # Nothing happens in the future: the newest cases were answered a moment ago.
            replied = min(at + timedelta(minutes=rng.randint(5, 48 * 60)), now)
            done = status in ("resolved", "closed")
            last = min(replied + timedelta(hours=rng.randint(1, 96)), now) if done else replied
            internal = status != "new" and rng.random() < 0.15
            product, problem = rng.choice(PRODUCTS), rng.choice(PROBLEMS)
            priority = _weighted(rng, PRIORITIES)
            channel = rng.choice(["portal", "portal", "portal", "email", "phone"])
            subject = f"{product.capitalize()} {problem} {rng.choice(WHO)}"
            tickets.add(
                case_id, subject, requester, org_id, "", phone, rng.choice(category_ids),
                priority, status, channel, None if status == "new" else agent, 1, when(at),
                when(last), when(at if status == "new" or internal else replied),
                when(last) if done else None, when(last) if status == "closed" else None,
            )
            message_id += 1
            messages.add(message_id, case_id, requester, "public",
                         _description(rng, product, problem), channel, "", when(at))
            events.add(case_id, "created", requester, as_json({
                "channel": channel, "priority": priority, "subject": subject, "attachments": 0,
            }, None), when(at))
            message_id += 1
            messages.add(message_id, case_id, agent, "internal" if internal else "public",
                         rng.choice(NOTES if internal else REPLIES), "portal", "", when(replied))
            events.add(case_id, "note" if internal else "reply", agent,
                       as_json({"message": message_id, "attachments": 0}, None), when(replied))
            if status != "new":
                events.add(case_id, "status", agent, as_json({"old": "new", "new": status}, None),
                           when(replied))
            if case_id == detail_id:
                # The case the benchmark opens has a longer thread, as a case under work
                # would: a customer reply, an internal note and a second answer.
                for hours, author, kind, body in [
                    (3, requester, "public", "Still happening for a third of our subscribers."),
                    (4, agent, "internal", rng.choice(NOTES)),
                    (5, agent, "public", rng.choice(REPLIES)),
                ]:
                    message_id += 1
                    at_msg = when(replied + timedelta(hours=hours))
                    messages.add(message_id, case_id, author, kind, body, "portal", "", at_msg)
                    events.add(case_id, "note" if kind == "internal" else "reply", author,
                               as_json({"message": message_id, "attachments": 0}, None), at_msg)
        counts = {"cases": tickets.write(), "messages": messages.write(), "events": events.write()}
        # Message ids were given explicitly; PostgreSQL's identity sequence must move past them.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Message, Event]):
                cursor.execute(sql)
        # New submissions continue after the seeded Case IDs.
        CaseCounter.objects.update_or_create(pk=1, defaults={"last_value": first_id + cases - 1})
    seeded_s = time.perf_counter() - t0

    # Fresh planner statistics, as a long-running install would have: without them
    # SQLite and PostgreSQL may pick a poor plan for the desk's list on a just-filled table.
    t1 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "vendor": connection.vendor,
        **counts,
        "organizations": len(organizations),
        "contacts": len(contact_users),
        "agents": len(agent_users),
        "agent_email": AGENT_EMAIL,
        "agent_password": AGENT_PASSWORD,
        "detail_case": detail_id,
        "detail_messages": Message.objects.filter(ticket_id=detail_id).count(),
        "email_domains": [o.email_domains for o in organizations],
        "counter": CaseCounter.objects.get(pk=1).last_value,
        "seed_s": round(seeded_s, 2),
        "analyze_s": round(time.perf_counter() - t1, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args()
    if args.cases < 1 or args.orgs < 1 or args.contacts < 1 or args.agents < 1:
        sys.exit("--cases, --orgs, --contacts and --agents must be at least 1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")
    import django

    django.setup()
    print(json.dumps(seed(args.cases, args.orgs, args.contacts, args.agents, args.seed)))


if __name__ == "__main__":
    main()
