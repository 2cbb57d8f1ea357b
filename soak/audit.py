"""After the load: wait for the queues to drain, then hold the database and the mail sink
to the clients' ledgers. Every finding is a line of text; none means the soak passed."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from soak.clients import Attempt
from soak.deployment import LEASE_SECONDS, Deployment
from soak.sink import Sink

# How long a periodic job may wait in the queue before it counts as stuck.
READY_GRACE_SECONDS = 30


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, text: str) -> None:
        self.violations.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)


def backlog(dep: Deployment) -> dict[str, int]:
    """What is still to do: mail to send, mail to process, jobs held by a dead worker."""
    out = int(dep.query(
        "SELECT count(*) FROM mail_outboundmail WHERE status IN ('queued', 'sending')"
    )[0][0])
    inbound = int(dep.query(
        "SELECT count(*) FROM mail_inboundmessage WHERE status IN ('received', 'processing')"
    )[0][0])
    return {"outbox": out, "inbound": inbound, "orphaned jobs": len(orphaned_jobs(dep))}


def orphaned_jobs(dep: Deployment) -> list[tuple[Any, ...]]:
    """RUNNING jobs whose worker has not renewed its lease for longer than the lease."""
    rows = dep.query(
        "SELECT id, task_path, worker_ids, started_at FROM django_tasks_database_dbtaskresult "
        "WHERE status = 'RUNNING'"
    )
    beats = {str(w): seen for w, seen in dep.query(
        "SELECT worker_id, seen_at FROM core_workerheartbeat")}
    now = now_of(dep)
    stuck = []
    for job_id, task_path, worker_ids, _started in rows:
        ids = worker_ids if isinstance(worker_ids, list) else _json(worker_ids)
        holder = ids[-1] if ids else None
        seen = beats.get(str(holder))
        if seen is None or (now - _aware(seen)).total_seconds() > LEASE_SECONDS:
            stuck.append((job_id, task_path, holder))
    return stuck


def drain(dep: Deployment, seconds: float) -> tuple[float, dict[str, int]]:
    """Wait until nothing is left to do: at most `seconds`, and no longer than twice the
    job lease without any progress. Returns the wait and what was left at the end."""
    t0 = last_change = time.monotonic()
    left = backlog(dep)
    while any(left.values()) and time.monotonic() - t0 < seconds:
        if time.monotonic() - last_change > 2 * LEASE_SECONDS + 10:
            break
        time.sleep(1)
        now_left = backlog(dep)
        if now_left != left:
            last_change = time.monotonic()
        left = now_left
    return time.monotonic() - t0, left


def audit(dep: Deployment, run: str, ledgers: list[Attempt], sink: Sink,
          left: dict[str, int], allowed_resends: int = 0) -> Findings:
    found = Findings()
    for what, count in left.items():
        if count:
            found.fail(f"after the drain, {count} {what} left (stuck)")
    marker = re.compile(rf"soak-{re.escape(run)}-[a-z]+-c\d+-n\d+")
    like = f"soak-{run}-%"

    tickets: dict[str, list[int]] = defaultdict(list)
    for ticket_id, subject in dep.query(
        f"SELECT id, subject FROM tickets_ticket WHERE subject LIKE '{like}'"  # noqa: S608
    ):
        m = marker.search(subject)
        if m:
            tickets[m.group(0)].append(int(ticket_id))
    messages: dict[str, list[int]] = defaultdict(list)
    for ticket_id, body in dep.query(
        f"SELECT ticket_id, body FROM tickets_message WHERE body LIKE '%%{like}%%'"  # noqa: S608
    ):
        for m in set(marker.findall(body)):
            if "-api-" in m or "-mailreply-" in m:
                messages[m].append(int(ticket_id))

    for a in ledgers:
        stored = tickets.get(a.marker, []) if a.kind in ("portal", "smtp-new") else \
            messages.get(a.marker, [])
        if a.accepted:
            if len(stored) != 1:
                found.fail(f"{a.kind} {a.marker} was accepted and is stored {len(stored)} times")
            elif a.case_id is not None and stored[0] != a.case_id:
                found.fail(f"{a.kind} {a.marker} is on case {stored[0]}, not {a.case_id}")
            if a.replayed and not a.replayed.startswith("ok"):
                found.fail(f"api {a.marker}: the same Idempotency-Key again: {a.replayed}")
        else:
            if len(stored) > 1:
                found.fail(f"{a.kind} {a.marker} was refused ({a.outcome}) and is stored "
                           f"{len(stored)} times")
            elif stored and a.outcome.startswith("http 5"):
                found.fail(f"{a.kind} {a.marker} answered {a.outcome} but was stored")
            elif stored:
                found.note(f"{a.kind} {a.marker}: the client saw {a.outcome}, the server "
                           "had stored it (once)")

    # Acknowledgements: one per new case in the outbox, and each delivered exactly once.
    new_cases = {cid for m, ids in tickets.items() for cid in ids}
    acks: dict[int, list[str]] = defaultdict(list)
    if new_cases:
        for ticket_id, message_id in dep.query(
            "SELECT ticket_id, message_id FROM mail_outboundmail WHERE kind = 'ack' "
            f"AND ticket_id IN ({','.join(str(c) for c in new_cases)})"  # noqa: S608
        ):
            acks[int(ticket_id)].append(str(message_id))
    delivered = sink.counts_by_message_id()
    unacked = sorted(c for c in new_cases if len(acks.get(c, [])) != 1)
    for case_id in unacked[:20]:
        found.fail(f"case {case_id} has {len(acks.get(case_id, []))} acknowledgements queued")
    wrong = [(c, ids[0], delivered.get(ids[0], 0)) for c, ids in acks.items()
             if len(ids) == 1 and delivered.get(ids[0], 0) != 1]
    # A worker SIGKILLed after the sink accepted a mail and before it marked it sent
    # leaves it to be sent again, with the same Message-ID, after its lease (delivery is
    # at-least-once: casedesk.mail.jobs). One such mail per kill of a sending worker is
    # that window, noted; any other duplicate is a violation.
    twice = [w for w in wrong if w[2] == 2]
    if 0 < len(twice) <= allowed_resends:
        for case_id, message_id, _n in twice:
            found.note(f"case {case_id}: acknowledgement {message_id} sent twice, same "
                       "Message-ID: the killed worker had sent it and not yet recorded it")
        wrong = [w for w in wrong if w[2] != 2]
    for case_id, message_id, n in wrong[:20]:
        found.fail(f"case {case_id}: its acknowledgement {message_id} reached the sink {n} times")
    if len(unacked) > 20 or len(wrong) > 20:
        found.fail(f"... {len(unacked)} cases without exactly one acknowledgement queued, "
                   f"{len(wrong)} acknowledgements not delivered exactly once in all")

    # Received mail: nothing of ours quarantined or left unprocessed.
    for status, count in dep.query(
        "SELECT status, count(*) FROM mail_inboundmessage "
        f"WHERE message_id LIKE '<{like}' GROUP BY status"  # noqa: S608
    ):
        if status not in ("processed",):
            found.fail(f"{count} soak mail(s) {status}")

    # Jobs: none failed, none held by a dead worker, none waiting far too long.
    for task_path, exc, count in dep.query(
        "SELECT task_path, exception_class_path, count(*) FROM django_tasks_database_dbtaskresult "
        "WHERE status = 'FAILED' GROUP BY task_path, exception_class_path"
    ):
        found.fail(f"{count} job(s) {task_path} FAILED with {exc}")
    for job_id, task_path, holder in orphaned_jobs(dep):
        found.fail(f"job {job_id} ({task_path}) RUNNING under {holder}, whose lease ran out")
    now = now_of(dep)
    for job_id, task_path, run_after, enqueued in dep.query(
        "SELECT id, task_path, run_after, enqueued_at FROM django_tasks_database_dbtaskresult "
        "WHERE status = 'READY'"
    ):
        due = max(_aware(run_after), _aware(enqueued))
        if (now - due).total_seconds() > READY_GRACE_SECONDS:
            found.fail(f"job {job_id} ({task_path}) READY for {(now - due).total_seconds():.0f} s")
    return found


def figures(ledgers: list[Attempt], seconds: float) -> list[dict[str, Any]]:
    """Per kind of request: attempts, accepted, per second, p50/p99, errors by kind."""
    by_kind: dict[str, list[Attempt]] = defaultdict(list)
    for a in ledgers:
        by_kind[a.kind].append(a)
    rows = []
    for kind in ("portal", "api", "smtp-new", "smtp-reply"):
        attempts = by_kind.get(kind, [])
        latencies = sorted(a.seconds for a in attempts)
        errors = Counter(a.outcome for a in attempts if not a.accepted)
        retried = sum(1 for a in attempts if a.tries > 1)
        rows.append({
            "kind": kind, "attempts": len(attempts),
            "accepted": sum(1 for a in attempts if a.accepted),
            "per_s": round(len(attempts) / seconds, 2) if seconds else 0.0,
            "p50_ms": pct(latencies, 50), "p99_ms": pct(latencies, 99),
            "retried": retried, "errors": dict(errors),
        })
    return rows


def pct(sorted_seconds: list[float], p: float) -> float | None:
    if not sorted_seconds:
        return None
    rank = max(1, -(-len(sorted_seconds) * p // 100))
    return round(sorted_seconds[int(rank) - 1] * 1000, 1)


def now_of(dep: Deployment) -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _aware(value: Any) -> Any:
    from datetime import UTC, datetime

    if isinstance(value, str):  # SQLite returns text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json(text: Any) -> list[Any]:
    import json

    return list(json.loads(text)) if text else []
