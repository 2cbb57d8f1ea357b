"""The Seeder: people, then cases with their threads, clocks, events and escalations, in
batches (see the package's docstring)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from casedesk.core.benchseed.rows import (
    ACTIVE_OLD,
    ACTIVE_RECENT,
    CHANNELS,
    ESCALATION_SOURCES,
    MESSAGE_COUNTS,
    PRIORITIES,
    REASONS,
    Table,
    active_share,
    picker,
)
from casedesk.core.benchseed.text import (
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AR_FIRST,
    AR_LAST,
    ARABIC_WORD,
    BATCH,
    COMMON_WORD,
    DETAIL_MESSAGES,
    FIRST,
    LAST,
    ORG_KINDS,
    ORG_WORDS,
    RARE_WORD,
    YEAR,
    ZONES,
    Pools,
)
from casedesk.core.rows import marks


class SeedError(Exception):
    """The seed cannot run; the message says why."""


class Seeder:
    def __init__(self, cases: int, messages_per_case: float, rng_seed: int,
                 organizations: int, agents: int, contacts_per_org: int,
                 progress: Callable[[str], None]) -> None:
        from django.db import connection

        self.cases = cases
        self.messages_per_case = messages_per_case
        self.rng = random.Random(rng_seed)  # noqa: S311 - test data, not secrets
        self.n_orgs = organizations
        self.n_agents = agents
        self.contacts_per_org = contacts_per_org
        self.progress = progress
        self.vendor = connection.vendor
        self.phases: dict[str, float] = {}
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.now_ts = self.now.timestamp()
        if self.vendor == "postgresql":
            def when(ts: float) -> str:
                return f"{datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)}+00"
        else:
            # What Django's SQLite backend stores: naive UTC text.
            def when(ts: float) -> str:
                return str(datetime.fromtimestamp(ts, UTC).replace(tzinfo=None))
        self.when = when

    def phase(self, name: str, started: float) -> None:
        took = time.perf_counter() - started
        self.phases[name] = round(took, 1)
        self.progress(f"{name}: {took:.1f} s")

    # -------------------------------------------------------------- run

    def run(self) -> dict[str, Any]:
        from django.db import connection

        from casedesk.tickets.models import Ticket

        if Ticket.objects.exists():
            raise SeedError(
                f"This database already has {Ticket.objects.count():,} cases: bench-seed "
                "fills an empty database only. Point CASEDESK_DATA_DIR or "
                "CASEDESK_DATABASE_URL at a fresh one and run `casedesk migrate` first."
            )
        t0 = time.perf_counter()
        self.people()
        self.phase("organizations, contacts, agents", t0)
        t1 = time.perf_counter()
        dropped = self.drop_indexes()
        self.bulk_session(True)
        try:
            self.phase("drop secondary indexes", t1)
            t2 = time.perf_counter()
            counts = self.cases_and_threads()
            self.phase("cases, messages, events, clocks, escalations", t2)
        finally:
            self.bulk_session(False)
            t3 = time.perf_counter()
            self.restore_indexes(dropped)
            self.phase("rebuild indexes", t3)
        t4 = time.perf_counter()
        with connection.cursor() as cursor:
            # On PostgreSQL also VACUUM: it marks the freshly loaded pages all-visible, as
            # autovacuum does on a live desk, so reports count from covering indexes alone
            # (index-only scans) instead of reading millions of rows to check visibility.
            cursor.execute("VACUUM ANALYZE" if self.vendor == "postgresql" else "ANALYZE")
        self.phase("analyze", t4)
        search = self.rebuild_search()
        summary = {
            "vendor": self.vendor, **counts,
            "organizations": self.n_orgs, "contacts": len(self.contacts),
            "agents": self.n_agents, "agent_email": AGENT_EMAIL,
            "agent_password": AGENT_PASSWORD, "detail_case": self.detail_id,
            "detail_messages": DETAIL_MESSAGES, "rare_word": RARE_WORD,
            "rare_messages": self.rare_count, "common_word": COMMON_WORD,
            "arabic_word": ARABIC_WORD, "arabic_cases": self.arabic_cases,
            "active_cases": self.active_cases, "search_index": search,
            "organization_ids": self.org_ids[:50], "phases_s": self.phases,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        return summary

    def rebuild_search(self) -> str:
        try:
            from casedesk.search import index  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            self.progress("search index: not available (no casedesk.search.index)")
            return "not available"
        t = time.perf_counter()
        index.rebuild()
        self.phase("search index rebuild", t)
        return "rebuilt"

    # -------------------------------------------------------------- people

    def people(self) -> None:
        from django.contrib.auth.hashers import make_password
        from django.db import transaction

        from casedesk.accounts.models import Organization, User
        from casedesk.escalation.models import Level
        from casedesk.sla.models import Plan
        from casedesk.tickets.models import Category

        rng = self.rng
        plans = {p.name: p for p in Plan.objects.prefetch_related("targets")}
        if not plans:
            raise SeedError("No support plans: run `casedesk migrate` first.")
        standard = plans.get("Standard") or next(iter(plans.values()))
        premium = plans.get("Premium") or standard
        self.targets = {
            (p.pk, t.priority): t.first_response_minutes * 60
            for p in plans.values() for t in p.targets.all()
        }
        self.warn = {p.pk: p.warn_percent for p in plans.values()}
        self.categories = [*Category.objects.values_list("pk", flat=True), None]
        self.levels = list(Level.objects.order_by("number").values_list("number", flat=True))
        password = make_password(AGENT_PASSWORD)
        unusable = make_password(None)
        created = self.now - timedelta(days=3 * 365 + 30)
        with transaction.atomic():
            orgs = Organization.objects.bulk_create([
                Organization(
                    name=f"{ORG_WORDS[n % len(ORG_WORDS)]} "
                         f"{ORG_KINDS[(n // len(ORG_WORDS)) % len(ORG_KINDS)]} {n:04d}",
                    plan=premium if rng.random() < 0.3 else standard,
                    email_domains=f"partner{n:04d}.bench.example",
                    time_zone=rng.choice(ZONES), created_at=created,
                )
                for n in range(1, self.n_orgs + 1)
            ], batch_size=500)
            agents = User.objects.bulk_create([
                User(
                    email=f"agent{n}@support.bench.example", password=password,
                    full_name=(f"{rng.choice(AR_FIRST)} {rng.choice(AR_LAST)}" if n % 5 == 0
                               else f"{FIRST[n % len(FIRST)]} {LAST[(n * 7) % len(LAST)]}"),
                    role=User.Role.AGENT, is_staff=n == 1, is_superuser=n == 1,
                    date_joined=created,
                )
                for n in range(1, self.n_agents + 1)
            ], batch_size=500)
            contacts = User.objects.bulk_create([
                User(
                    email=f"contact{k}@{org.email_domains}", password=unusable,
                    full_name=(f"{rng.choice(AR_FIRST)} {rng.choice(AR_LAST)}"
                               if rng.random() < 0.2
                               else f"{rng.choice(FIRST)} {rng.choice(LAST)}"),
                    role=User.Role.CONTACT, organization=org,
                    phone=f"+971 4 {org.pk % 1000:03d} {k:04d}", date_joined=created,
                )
                for org in orgs for k in range(1, self.contacts_per_org + 1)
            ], batch_size=1000)
            # The escalation teams: most agents at level 1, fewer at each level above.
            through = Level.team.through
            level_ids = dict(Level.objects.values_list("number", "pk"))
            shares = {1: 0.7, 2: 0.18, 3: 0.08, 4: 0.04}
            self.team: dict[int, list[int]] = {}
            members = []
            start = 0
            for number in self.levels:
                size = max(1, round(self.n_agents * shares.get(number, 0.04)))
                ids = [a.pk for a in agents[start:start + size]] or [agents[-1].pk]
                start += size
                self.team[number] = ids
                members += [through(level_id=level_ids[number], user_id=i) for i in ids]
            through.objects.bulk_create(members)
        plan_of: dict[int | None, int] = {o.pk: o.plan_id for o in orgs}  # type: ignore[misc]
        self.org_ids = [o.pk for o in orgs]
        self.agent_ids = [a.pk for a in agents]
        self.contacts: list[tuple[int, int | None, int, str]] = [
            (c.pk, c.organization_id, plan_of[c.organization_id], c.phone) for c in contacts
        ]

    # -------------------------------------------------------------- indexes

    TABLES = ("tickets_ticket", "tickets_message", "tickets_event", "sla_clock",
              "escalation_escalation")

    def drop_indexes(self) -> list[str]:
        """Drop the bulk tables' secondary indexes; returns the SQL that recreates them."""
        from django.db import connection

        tables = self.TABLES
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                names = marks(len(tables))
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT "  # noqa: S608
                    f"NULL AND tbl_name IN ({names})", tables,
                )
            else:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                    "current_schema() AND tablename = ANY(%s) AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint)", [list(tables)],
                )
            found = cursor.fetchall()
            for name, _sql in found:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [sql for _name, sql in found]

    def restore_indexes(self, statements: list[str]) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute("SET maintenance_work_mem = '512MB'")
            for sql in statements:
                cursor.execute(sql)

    def bulk_session(self, on: bool) -> None:
        """Session settings for the load (on) and back to the project's (off)."""
        from django.db import connection

        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                if on:
                    # A rollback journal in memory: the load goes into a fresh database
                    # (if it fails, start again from `casedesk migrate`).
                    for pragma in ("journal_mode=MEMORY", "synchronous=OFF",
                                   "foreign_keys=OFF", "cache_size=-1000000"):
                        cursor.execute(f"PRAGMA {pragma}")
                else:
                    for pragma in ("journal_mode=WAL", "synchronous=NORMAL",
                                   "foreign_keys=ON", "cache_size=-65536"):
                        cursor.execute(f"PRAGMA {pragma}")
            else:
                cursor.execute("SET synchronous_commit = " + ("off" if on else "on"))
                try:
                    # Foreign-key triggers off: every row refers to rows written before it.
                    cursor.execute("SET session_replication_role = "
                                   + ("replica" if on else "origin"))
                except Exception:  # noqa: BLE001 - not a superuser: keep the checks
                    self.progress("foreign-key checks stay on (not a superuser)")

    # -------------------------------------------------------------- cases

    def cases_and_threads(self) -> dict[str, int]:  # noqa: C901, PLR0912, PLR0915
        from django.conf import settings
        from django.core.management.color import no_style
        from django.db import connection, transaction

        from casedesk.escalation.models import Escalation
        from casedesk.sla.models import Clock
        from casedesk.tickets.models import CaseCounter, Event, Message, Ticket

        rng = self.rng
        rnd = rng.random
        pools = Pools(rng)
        when = self.when
        now = self.now_ts
        tickets = Table(Ticket, [
            "id", "subject", "requester", "organization", "requester_phone", "category",
            "priority", "status", "channel", "assignee", "escalation_level", "created_at",
            "updated_at", "last_message_at", "resolved_at", "closed_at",
        ])
        messages = Table(Message, ["id", "ticket", "author", "kind", "body", "channel",
                                   "created_at"])
        events = Table(Event, ["ticket", "kind", "actor", "data", "created_at"])
        clocks = Table(Clock, [
            "id", "ticket", "kind", "plan", "priority", "started_at", "target_seconds",
            "due_at", "warn_at", "warned_at", "breached_at", "met_at", "paused_at",
            "cancelled_at", "cancel_reason", "next_check_at", "met_by",
        ])
        escalations = Table(Escalation, [
            "id", "ticket", "from_level", "to_level", "source", "reason", "actor",
            "assigned_to", "nobody_on_shift", "created_at",
        ])
        tables = [tickets, messages, events, clocks, escalations]

        pick_priority = picker(PRIORITIES, rnd)
        pick_channel = picker(CHANNELS, rnd)
        # Message counts scaled so the mean is --messages-per-case (5 by default).
        base_mean = sum(v * w for v, w in MESSAGE_COUNTS) / sum(w for _, w in MESSAGE_COUNTS)
        scale = self.messages_per_case / base_mean
        pick_count = picker(MESSAGE_COUNTS, rnd)
        pick_recent = picker(ACTIVE_RECENT, rnd)
        pick_old = picker(ACTIVE_OLD, rnd)
        pick_source = picker(ESCALATION_SOURCES, rnd)
        levels = self.levels
        top_level = levels[-1] if levels else 1
        contacts = self.contacts
        n_contacts = len(contacts)
        agent_ids = self.agent_ids
        n_agents = len(agent_ids)
        team = self.team
        categories = self.categories
        targets = self.targets
        warn = self.warn

        first_id = settings.CASEDESK_CASE_ID_START
        span = 3 * YEAR
        created = sorted(now - 600 - rnd() * span for _ in range(self.cases))
        # The case the benchmark opens: a recent open case with a 50-message thread.
        detail_n = max(0, self.cases - 1 - max(1, self.cases // 400))
        self.detail_id = first_id + detail_n
        rare_every = max(1, self.cases // 12)
        self.rare_count = 0
        self.arabic_cases = 0
        self.active_cases = 0
        message_id = clock_id = escalation_id = 0

        def dumps(data: dict[str, Any]) -> str:
            return json.dumps(data, ensure_ascii=False)

        for batch_start in range(0, self.cases, BATCH):
            batch_t = time.perf_counter()
            for n in range(batch_start, min(self.cases, batch_start + BATCH)):
                case_id = first_id + n
                at = created[n]
                age_days = (now - at) / 86400
                arabic = rnd() < 0.2
                requester, org_id, plan_id, phone = contacts[int(rnd() * n_contacts)]
                agent = agent_ids[int(rnd() * n_agents)]
                if n == detail_n:
                    status = "open"
                elif rnd() < active_share(age_days):
                    status = pick_recent() if age_days < 30 else pick_old()
                else:
                    status = "closed" if age_days > 10 or rnd() < 0.3 else "resolved"
                active = status not in ("resolved", "closed")
                priority = pick_priority()
                channel = pick_channel()
                if arabic:
                    self.arabic_cases += 1
                    subject = pools.ar_subjects[int(rnd() * len(pools.ar_subjects))]
                else:
                    subject = pools.en_subjects[int(rnd() * len(pools.en_subjects))]

                # The thread: the description, then agent and customer in turn.
                if status == "new":
                    count = 1 if rnd() < 0.8 else 2
                elif n == detail_n:
                    count = DETAIL_MESSAGES
                else:
                    count = max(2, round(pick_count() * scale))
                # Done cases ran their course within days; open ones are still running.
                end = min(now - 60, at + (rnd() * 6 + 0.2) * 86400) if not active else now - 60
                if end <= at:
                    end = at + 60
                # The first answer comes within the plan's target nine times in ten.
                target = targets.get((plan_id, priority))
                first = min(at + (target or 14400) * (0.05 + rnd() * 1.05), (at + end) / 2)
                step = (end - first) / count
                times = [at, first] + [
                    first + step * (i + rnd() * 0.9) for i in range(1, count - 1)]
                del times[count:]
                thread: list[tuple[int, int, str, str, float]] = []
                first_reply: float | None = None
                last_public = at
                for i, t in enumerate(times):
                    if i == 0:
                        author, kind = requester, "public"
                        if rnd() < 0.03:
                            body = (pools.ar_long if arabic else pools.en_long)[
                                int(rnd() * (200 if arabic else 400))]
                        else:
                            body = (pools.ar_descriptions if arabic else pools.en_descriptions)[
                                int(rnd() * (3000 if arabic else 6000))]
                    elif status == "new" or (i % 2 == 0 and rnd() < 0.8):
                        author, kind = requester, "public"
                        pool = pools.ar_customer if arabic else pools.en_customer
                        body = pool[int(rnd() * len(pool))]
                    elif rnd() < 0.15:
                        author, kind = agent, "internal"
                        pool = pools.ar_notes if arabic else pools.en_notes
                        body = pool[int(rnd() * len(pool))]
                    else:
                        author, kind = agent, "public"
                        pool = pools.ar_replies if arabic else pools.en_replies
                        body = pool[int(rnd() * len(pool))]
                        if first_reply is None:
                            first_reply = t
                    if n % rare_every == 0 and i == 0:
                        body = (f"The {RARE_WORD} probe on the edge router {body[:1].lower()}"
                                f"{body[1:]}")
                        self.rare_count += 1
                    message_id += 1
                    thread.append((message_id, author, kind, body, t))
                    if kind == "public":
                        last_public = t
                if status == "new":
                    first_reply = None
                last = times[-1]
                resolved_at = closed_at = None
                if not active:
                    resolved_at = last + 60 + rnd() * 3600
                    if status == "closed":
                        closed_at = min(now - 30, resolved_at + 3 * 86400)
                    last = closed_at or resolved_at
                else:
                    self.active_cases += 1

                # Escalations: a few cases moved up the levels.
                esc_level = 1
                if levels and rnd() < (0.12 if active else 0.04):
                    r = rnd()
                    esc_level = min(top_level, 2 if r < 0.7 else 3 if r < 0.92 else 4)
                assignee = None if status == "new" or (active and rnd() < 0.1) else agent
                if esc_level > 1:
                    members = team.get(esc_level) or agent_ids
                    assignee = members[int(rnd() * len(members))]

                tickets.add(
                    case_id, subject, requester, org_id, phone,
                    categories[int(rnd() * len(categories))], priority, status, channel,
                    assignee, esc_level, when(at), when(last), when(last_public),
                    when(resolved_at) if resolved_at else None,
                    when(closed_at) if closed_at else None,
                )
                events.add(case_id, "created", requester, dumps({
                    "channel": channel, "priority": priority, "subject": subject,
                    "attachments": 0}), when(at))
                for mid, author, kind, body, t in thread:
                    messages.add(mid, case_id, author, kind, body,
                                 channel if author == requester else "portal", when(t))
                    if author != requester:
                        events.add(case_id, "note" if kind == "internal" else "reply", author,
                                   f'{{"message": {mid}, "attachments": 0}}', when(t))

                # The first-response clock, as the sweep and the reply would have left it.
                if target:
                    clock_id += 1
                    due = at + target
                    warn_at = at + target * warn[plan_id] / 100
                    met = first_reply
                    cancelled = None
                    if met is None and not active:
                        cancelled = resolved_at
                    paused = None
                    if met is None and status == "pending":
                        # Waiting on the customer: the clock stopped when the case did.
                        paused = last
                    decided = met or cancelled or paused or now
                    warned = when(warn_at) if decided > warn_at else None
                    breached = when(due) if decided > due else None
                    next_check = None
                    if met is None and cancelled is None and paused is None:
                        if decided <= warn_at:
                            next_check = when(warn_at)
                        elif decided <= due:
                            next_check = when(due)
                    clocks.add(
                        clock_id, case_id, "first_response", plan_id, priority, when(at),
                        target, when(due), when(warn_at), warned, breached,
                        when(met) if met else None, when(paused) if paused else None,
                        when(cancelled) if cancelled else None,
                        "resolved" if cancelled else "", next_check, agent if met else None,
                    )
                    if breached:
                        events.add(case_id, "sla_breach", None, dumps({
                            "clock": clock_id, "kind": "first_response",
                            "due_at": when(due), "escalate": True}), when(due))
                    if met:
                        events.add(case_id, "sla_met", agent, dumps({
                            "clock": clock_id, "kind": "first_response", "due_at": when(due),
                            "late_seconds": max(0, int(met - due))}), when(met))
                if status != "new":
                    changed = resolved_at or times[min(1, count - 1)]
                    events.add(case_id, "status", agent,
                               f'{{"old": "new", "new": "{status}"}}', when(changed))
                level = 1
                while level < esc_level:
                    escalation_id += 1
                    source = pick_source()
                    t = at + (last - at) * (0.2 + 0.3 * level / top_level)
                    members = team.get(level + 1) or agent_ids
                    to_agent = members[int(rnd() * len(members))]
                    actor = (requester if source == "portal"
                             else None if source == "sla" else agent)
                    escalations.add(escalation_id, case_id, level, level + 1, source,
                                    REASONS[source], actor, to_agent, False, when(t))
                    events.add(case_id, "escalated", actor, dumps({
                        "from": level, "to": level + 1, "source": source,
                        "reason": REASONS[source], "assigned_to": None,
                        "nobody_on_shift": False, "escalation": escalation_id}), when(t))
                    level += 1
            with transaction.atomic(), connection.cursor() as cursor:
                for table in tables:
                    table.flush(cursor, self.vendor)
            done = min(self.cases, batch_start + BATCH)
            if done % (BATCH * 10) == 0 or done == self.cases:
                self.progress(
                    f"  {done:,} cases, {messages.written:,} messages "
                    f"({time.perf_counter() - batch_t:.2f} s for the last batch)"
                )
        with transaction.atomic(), connection.cursor() as cursor:
            # Ids were given explicitly: PostgreSQL's identity sequences must move past them.
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Message, Event, Clock, Escalation]
            ):
                cursor.execute(sql)
            # New cases continue after the seeded Case IDs.
            CaseCounter.objects.update_or_create(
                pk=1, defaults={"last_value": first_id + self.cases - 1}
            )
        return {"cases": tickets.written, "messages": messages.written,
                "events": events.written, "clocks": clocks.written,
                "escalations": escalations.written}
