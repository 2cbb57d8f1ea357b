"""Inbound mail throughput (issue 4): 10,000 messages over SMTP and by import.

    python -m bench.inbound [--db sqlite|postgres|both] [--messages 10000] [--peer]

Per database, in a fresh data directory (and PostgreSQL database, dropped afterwards):

1. `casedesk migrate`; then, in a process of its own, 20 partner organizations, 200
   contacts and 200 cases submitted through the real action (each with its acknowledgement
   mail, whose Message-ID the replies below point at).
2. --messages realistic messages, from a fixed random seed: ~60% replies to those cases
   (from the requester; most carry In-Reply-To/References of the case's acknowledgement,
   the rest only a `[Case #N]` tag in the subject), ~30% new cases (half from known
   contacts, half from unknown senders), ~10% automatic (delivery-failure reports from
   MAILER-DAEMON, and out-of-office answers to our acknowledgements); ~10% carry a small
   PNG attachment.
3. SMTP: a real `casedesk mail-in` on a free port; smtplib over 4 concurrent connections
   (one per thread, each sending its next message when the previous got its 250).
   Messages accepted per second, and p50/p99 of one message (MAIL, RCPT, DATA, 250).
4. Processing: in a separate process (--workers N: N processes at once, each claiming
   its own batches), casedesk.mail.inbound_jobs.process_due, batch after batch until
   nothing is due: messages per second through parsing, threading and storing, CPU
   milliseconds per message (of the processing processes with their parse processes,
   casedesk.mail.parse_process, and, on PostgreSQL, of their server backends; with the
   rate one core would reach at that cost and the load average, as wall time on a shared
   machine says little), and that process's memory once 20% of the messages were done
   and at the end. Memory must not grow with the number of messages, so the table shows
   Python's resident heap: anonymous memory minus SQLite's own allocations (its page
   cache, which fills up to cache_size, 64 MB, as the database grows, then stays); the
   details add SQLite's cache, the file-backed pages (SQLite's mmap of the database), the
   peak RSS, and the memory of the processing process's children (its parse process, and
   multiprocessing's resource tracker).
5. Import: a fresh database prepared the same way, the same generator (same seed; the
   replies point at this database's acknowledgements), written to an mbox, stored by
   `casedesk mail-import` (process start-up included), then processed as in 4.

6. Peer (--peer, or PEER=1 in the environment): django-helpdesk 2.6.1's own scripts
   (../shared/peers/django-helpdesk: setup.sh for this database, then email_bench.py
   --n --peer-messages), its `get_email` timed on a local folder of generated messages.

Counts are checked after each run (InboundMessage rows; processed/ignored/quarantined;
cases created; messages added) and printed as OK or MISMATCH. Each measurement is preceded
by a CPU calibration (a fixed pure-Python loop, timed: `calib ms`), since this VM's speed
varies between machines and over time. Target (issue 4): >= 500 messages/s through
parsing, threading and storing. The "vs peer" ratio uses the peer's rate measured in the
same run; without --peer (or if the peer run fails) it falls back to issue 4's 86
messages/s, measured once on another machine, and says so. Rows are appended to
bench/results/<UTC time>-inbound.jsonl.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.desk import calibration_ms
from bench.inbound_mail import SUPPORT, WORDS, Mix, generate
from bench.inbound_measure import (
    backend_pid,
    children_cpu_s,
    cpu_figures,
    memory_text,
    resident_memory,
    rss_mb,
    server_cpu_s,
)
from bench.peer import PEER_MESSAGES, PEER_PER_S, measure_peer_email, peer_note

TARGET_PER_S = 500.0
SMTP_CLIENTS = 4
ORGS = 20
CONTACTS = 200
CASES = 200


# ---------------------------------------------------------------- inside casedesk's settings


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")
    import django

    django.setup()


def prepare() -> dict[str, Any]:
    """Organizations, contacts and cases opened through the real action, so that replies
    can thread: returns each case's requester and acknowledgement Message-ID."""
    from django.contrib.auth.hashers import make_password

    from casedesk.accounts.models import Organization, User
    from casedesk.core.choices import Priority
    from casedesk.mail.models import OutboundMail
    from casedesk.sla.models import Plan
    from casedesk.tickets.actions import submit_case

    plan = Plan.objects.order_by("pk").first()
    unusable = make_password(None)
    contacts = []
    for n in range(ORGS):
        org = Organization.objects.create(name=f"Partner {n}", plan=plan,
                                          email_domains=f"partner{n}.bench.example")
        for k in range(CONTACTS // ORGS):
            contacts.append(User.objects.create(
                email=f"contact{k}@partner{n}.bench.example", password=unusable,
                full_name=f"Contact {k} of {n}", role=User.Role.CONTACT, organization=org,
            ))
    cases = []
    for n in range(CASES):
        contact = contacts[n % len(contacts)]
        submission = submit_case(
            email=contact.email, full_name=contact.full_name,
            subject=f"Case {n}: the {WORDS[n % len(WORDS)]} does not work",
            description="It stopped working this morning.\n\nThanks.",
            priority=Priority.MEDIUM, category=None, files=[],
        )
        ack = (OutboundMail.objects.filter(ticket=submission.ticket).order_by("pk")
               .values_list("message_id", flat=True).first())
        if ack:
            cases.append({"id": submission.ticket.pk, "email": contact.email,
                          "subject": submission.ticket.subject, "ack": ack})
    return {"contacts": [c.email for c in contacts], "cases": cases}


def drain(mark: int) -> dict[str, Any]:
    """Process everything due, batch after batch; peak RSS, and resident memory split,
    once `mark` messages are done and at the end."""
    from django.db import connection

    from casedesk.mail.inbound_jobs import process_due

    connection.ensure_connection()
    backend = backend_pid()
    server0 = server_cpu_s(backend)
    rss_start = rss_mb()
    calib = calibration_ms()
    done, rss_mark, memory_mark = 0, None, None
    counts: dict[str, int] = {}
    children0 = children_cpu_s()
    cpu0, t0, started = time.process_time(), time.perf_counter(), time.time()
    while True:
        batch = process_due()
        if not batch:
            break
        for key, value in batch.items():
            counts[key] = counts.get(key, 0) + value
        done += sum(batch.values())
        if rss_mark is None and done >= mark:
            rss_mark, memory_mark = rss_mb(), resident_memory()
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    server = server_cpu_s(backend) - server0
    memory_end = resident_memory()
    # The parse process (CASEDESK_INBOUND_PARSE_PROCESS) parses beside this one: its CPU
    # is the messages' too, read once it has ended and been waited for.
    try:
        from casedesk.mail.parse_process import shutdown
    except ImportError:  # a casedesk without it
        pass
    else:
        shutdown()
    parse = children_cpu_s() - children0
    return {"processed": done, "seconds": round(seconds, 2),
            "per_s": round(done / seconds, 1) if seconds else 0.0,
            **cpu_figures(done, cpu + parse, server, parse), "load": os.getloadavg()[0],
            "calib_ms": calib,
            "counts": counts, "started": started, "ended": time.time(),
            "rss_start_mb": rss_start, "rss_mark_mb": rss_mark, "rss_mark_at": mark,
            "rss_end_mb": rss_mb(), "memory_mark": memory_mark, "memory_end": memory_end}


def drain_parallel(target: Any, mark: int, workers: int) -> dict[str, Any]:
    """`workers` drain processes at once over one database (each claims its own batches,
    as `casedesk worker` processes do); the rate is all their messages over the time from
    the first start to the last end."""
    if workers == 1:
        return {**_child(target, "drain", "--mark", str(mark)), "workers": 1}
    from bench.target import REPO, BenchError

    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.inbound", "drain", "--mark", str(mark // workers)],
            cwd=REPO, env=target.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    parts = []
    for proc in procs:
        out, err = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise BenchError(f"bench.inbound drain failed:\n{err[-3000:]}")
        parts.append(json.loads(out.strip().splitlines()[-1]))
    done = sum(p["processed"] for p in parts)
    seconds = max(p["ended"] for p in parts) - min(p["started"] for p in parts)
    cpu = sum(p["cpu_s"] for p in parts)
    server = sum(p.get("server_cpu_s", 0.0) for p in parts)
    parse = sum(p.get("parse_process_cpu_s", 0.0) for p in parts)
    counts: dict[str, int] = {}
    for part in parts:
        for key, value in part["counts"].items():
            counts[key] = counts.get(key, 0) + value
    biggest = max(parts, key=lambda p: p["rss_end_mb"])
    return {**biggest, "workers": workers, "processed": done, "seconds": round(seconds, 2),
            "per_s": round(done / seconds, 1) if seconds else 0.0,
            **cpu_figures(done, cpu, server, parse),
            "load": max(p.get("load", 0) for p in parts),
            "counts": counts, "per_worker": [p["processed"] for p in parts]}


# ---------------------------------------------------------------- the orchestrator


def _child(target: Any, *args: str, timeout: float = 3600) -> dict[str, Any]:
    from bench.target import run_child

    return run_child("bench.inbound", target, *args, timeout=timeout)


def _counts(target: Any) -> dict[str, int]:
    rows = dict(target.query("SELECT status, count(*) FROM mail_inboundmessage GROUP BY status"))
    return {
        "inbound": sum(rows.values()),
        **{k: int(rows.get(k, 0)) for k in ("received", "processed", "ignored",
                                             "quarantined")},
        "cases": int(target.query("SELECT count(*) FROM tickets_ticket")[0][0]),
        "messages": int(target.query("SELECT count(*) FROM tickets_message")[0][0]),
    }


def _check(before: dict[str, int], after: dict[str, int], sent: int, mix: Mix) -> str:
    """OK when every message is stored once and handled, none quarantined, one case per
    new-case message and one message per reply or new case."""
    problems = []
    if after["inbound"] - before["inbound"] != sent:
        problems.append(f"inbound +{after['inbound'] - before['inbound']} != {sent}")
    handled = after["processed"] + after["ignored"] + after["quarantined"]
    if handled != after["inbound"] or after["received"]:
        problems.append(f"handled {handled} of {after['inbound']}")
    if after["quarantined"]:
        problems.append(f"{after['quarantined']} quarantined")
    if after["cases"] - before["cases"] != mix.new_cases:
        problems.append(f"cases +{after['cases'] - before['cases']} != {mix.new_cases}")
    expected = mix.new_cases + mix.replies
    if after["messages"] - before["messages"] != expected:
        problems.append(f"messages +{after['messages'] - before['messages']} != {expected}")
    return "OK" if not problems else "MISMATCH: " + "; ".join(problems)


def _start_listener(target: Any) -> tuple[subprocess.Popen[bytes], int]:
    from bench.target import REPO, BenchError, free_port

    port = free_port()
    log = open(target.data_dir / "mail-in.log", "wb")  # noqa: SIM115 - lives with the process
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "casedesk", "mail-in", "--smtp", f"127.0.0.1:{port}"],
        cwd=REPO, env=target.env(), stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError("casedesk mail-in exited: "
                             + (target.data_dir / "mail-in.log").read_text()[-2000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise BenchError("casedesk mail-in did not listen within 30 s")


def send_smtp(port: int, raws: list[bytes]) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    it = iter(enumerate(raws))

    def client() -> None:
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    item = next(it, None)
                if item is None:
                    return
                n, raw = item
                t0 = time.perf_counter()
                try:
                    smtp.sendmail(f"sender{n}@clients.bench.example", [SUPPORT], raw)
                except smtplib.SMTPException as exc:
                    with lock:
                        errors.append(f"{n}: {exc}")
                    continue
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
        finally:
            smtp.quit()

    threads = [threading.Thread(target=client) for _ in range(SMTP_CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    latencies.sort()
    return {"ok": len(latencies), "errors": len(errors), "first_errors": errors[:3],
            "seconds": round(seconds, 2), "per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)
            if latencies else None}


def run_db(vendor: str, count: int, seed: int, keep: bool, workers: int = 1,
           peer_messages: int | None = None) -> dict[str, Any]:
    from bench.png import make_png
    from bench.target import Target

    png = make_png(6 * 1024)
    mark = max(1, count // 5)
    row: dict[str, Any] = {"db": vendor, "messages": count}
    # ---- SMTP, then processing
    target = Target(vendor, keep=keep)
    try:
        print(f"\n== inbound mail on {vendor}: data in {target.data_dir}", flush=True)
        target.create()
        world = _child(target, "prepare")
        raws, mix = generate(count, world, seed, png)
        row["mix"] = mix.kinds
        row["attachments"] = mix.attachments
        row["mean_kb"] = round(sum(map(len, raws)) / len(raws) / 1024, 1)
        print(f"   {len(world['cases'])} cases to reply to; {count:,} messages "
              f"({row['mean_kb']} KB mean): {mix.kinds}", flush=True)
        before = _counts(target)
        proc, port = _start_listener(target)
        try:
            calib = calibration_ms()
            row["smtp"] = {**send_smtp(port, raws), "calib_ms": calib}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        print(f"   SMTP: {row['smtp']['ok']:,} accepted in {row['smtp']['seconds']} s",
              flush=True)
        row["drain"] = drain_parallel(target, mark, workers)
        after = _counts(target)
        row["smtp_counts"] = after
        row["smtp_check"] = _check(before, after, count, mix)
        print(f"   processed in {row['drain']['seconds']} s: {row['smtp_check']}", flush=True)
    finally:
        target.cleanup()
    # ---- import into a fresh database
    target = Target(vendor, keep=keep)
    try:
        target.create()
        world = _child(target, "prepare")
        raws, mix = generate(count, world, seed, png)
        path = target.data_dir / "bench.mbox"
        box = mailbox.mbox(path)
        box.lock()
        for raw in raws:
            # An mbox on disk has Unix line endings.
            box.add(raw.replace(b"\r\n", b"\n"))
        box.flush()
        box.unlock()
        box.close()
        before = _counts(target)
        calib = calibration_ms()
        t0 = time.perf_counter()
        summary = target.run_casedesk("mail-import", str(path), timeout=3600)
        seconds = time.perf_counter() - t0
        row["import"] = {"seconds": round(seconds, 2), "per_s": round(count / seconds, 1),
                         "summary": summary.strip(), "calib_ms": calib}
        print(f"   import: {summary.strip()} in {seconds:.1f} s", flush=True)
        row["import_drain"] = drain_parallel(target, mark, workers)
        after = _counts(target)
        row["import_counts"] = after
        row["import_check"] = _check(before, after, count, mix)
        print(f"   processed in {row['import_drain']['seconds']} s: {row['import_check']}",
              flush=True)
    finally:
        target.cleanup()
    if peer_messages:
        row["peer"] = measure_peer_email(vendor, peer_messages)
    measured = bool(row.get("peer", {}).get("ok"))
    row["peer_per_s"] = row["peer"]["per_s"] if measured else PEER_PER_S
    row["peer_measured"] = measured
    return row


def versus(per_s: float, row: dict[str, Any]) -> tuple[str, str]:
    """Against the target, and the ratio to the row's peer figure (* when that figure was
    not measured in this run)."""
    meets = "meets" if per_s >= TARGET_PER_S else "MISSES"
    mark = "" if row.get("peer_measured") else "*"
    return meets, f"{per_s / row.get('peer_per_s', PEER_PER_S):.1f}x{mark}"


def calib(part: dict[str, Any]) -> str:
    return str(part.get("calib_ms", "-"))


def table(rows: list[dict[str, Any]]) -> str:
    """One line per measurement; `vs peer` is against the peer's rate measured in the same
    run, or, marked *, against issue 4's figure from another machine (see peer_note)."""
    head = (f"{'database':<10} {'scenario':<34} {'ok':>7} {'per s':>8} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'Python MB':>13} {'calib ms':>9} {'vs target':>10} "
            f"{'vs peer':>8}  check")
    lines = [head, "-" * len(head)]
    for r in rows:
        s, d, i, di = r["smtp"], r["drain"], r["import"], r["import_drain"]
        lines.append(f"{r['db']:<10} {'SMTP accepted (4 connections)':<34} {s['ok']:>7,} "
                     f"{s['per_s']:>8.1f} {s['p50_ms']:>8} {s['p99_ms']:>8} {'-':>13} "
                     f"{calib(s):>9} {'-':>10} {'-':>8}  {s['errors']} errors")
        for label, drained, check in [("processed (after SMTP)", d, r["smtp_check"]),
                                      ("processed (after import)", di, r["import_check"])]:
            meets, ratio = versus(drained["per_s"], r)
            # Python's resident heap at 20% of the messages / at the end: it must not grow.
            rss = (f"{(drained.get('memory_mark') or {}).get('python_mb')}/"
                   f"{(drained.get('memory_end') or {}).get('python_mb')}")
            lines.append(f"{'':<10} {label:<34} {drained['processed']:>7,} "
                         f"{drained['per_s']:>8.1f} {'-':>8} {'-':>8} {rss:>13} "
                         f"{calib(drained):>9} {meets:>10} {ratio:>8}  {check}")
            if label.endswith("SMTP)"):
                lines.append(f"{'':<10} {'mail-import (stored)':<34} {r['messages']:>7,} "
                             f"{i['per_s']:>8.1f} {'-':>8} {'-':>8} {'-':>13} {calib(i):>9} "
                             f"{'-':>10} {'-':>8}  {i['summary']}")
        peer = r.get("peer")
        if peer and peer.get("ok"):
            lines.append(f"{'':<10} {'peer: django-helpdesk get_email':<34} "
                         f"{peer['tickets']:>7,} {peer['per_s']:>8.1f} {'-':>8} {'-':>8} "
                         f"{'-':>13} {calib(peer):>9} {'-':>10} {'1.0x':>8}  {peer['check']}")
        elif peer:
            lines.append(f"{'':<10} {'peer: django-helpdesk get_email':<34} {'-':>7} "
                         f"{'-':>8} {'-':>8} {'-':>8} {'-':>13} {'-':>9} {'-':>10} {'-':>8}  "
                         "FAILED (see below)")
    return "\n".join(lines)


def report(rows: list[dict[str, Any]]) -> None:
    print(f"\n== inbound mail (issue 4 target: >= {TARGET_PER_S:g} messages/s through "
          "parsing, threading and storing; peer: django-helpdesk 2.6.1 ingesting from a "
          "local folder, see below)")
    print(table(rows))
    for r in rows:
        print(f"   {peer_note(r)}")
    print("   calib ms: a fixed pure-Python loop (1M iterations) timed just before that "
          "measurement; lower is faster, and a high value means the CPU was slowed or "
          "shared while it ran: compare runs (and machines) only with it in view")
    for r in rows:
        for label, d in [("after SMTP", r["drain"]), ("after import", r["import_drain"])]:
            print(f"   {r['db']} {label}: {d['processed']:,} in {d['seconds']} s "
                  f"({d['cpu_s']} s CPU in the processing process and its parse process), "
                  f"{d['counts']}; peak RSS "
                  f"{d['rss_start_mb']} MB at start, {d['rss_mark_mb']} MB at "
                  f"{d['rss_mark_at']:,} messages, {d['rss_end_mb']} MB at {d['processed']:,}"
                  f"; {d.get('workers', 1)} worker(s)\n      CPU per message: "
                  f"{d.get('cpu_ms_per_message')} ms in casedesk + "
                  f"{d.get('server_cpu_s', 0) * 1000 / max(d['processed'], 1):.2f} ms in "
                  f"PostgreSQL = {d.get('total_cpu_ms_per_message')} ms, so "
                  f"{d.get('one_core_per_s')} messages/s on one core (target "
                  f"{TARGET_PER_S:g}: <= {1000 / TARGET_PER_S:.1f} ms; casedesk's includes "
                  f"{d.get('parse_process_cpu_s', 0) * 1000 / max(d['processed'], 1):.2f} ms "
                  "in the parse process); load average "
                  f"{d.get('load', 0):.1f} at the end\n      resident at {d['rss_mark_at']:,}: "
                  f"{memory_text(d.get('memory_mark'))}; at the end: "
                  f"{memory_text(d.get('memory_end'))}")
        print(f"   {r['db']} mix: {r['mix']}, {r['attachments']} with a PNG, "
              f"{r['mean_kb']} KB mean; mail-import includes the process start-up")


def run(dbs: list[str], count: int, seed: int = 20260304, keep: bool = False,
        out: Path | None = None, workers: int = 1,
        peer_messages: int | None = None) -> list[dict[str, Any]]:
    """Measure on each database (and, given `peer_messages`, the peer's e-mail ingestion
    on it), print the table, append the rows to `out`."""
    from bench.target import run_each

    return run_each("inbound", dbs,
                    lambda vendor: run_db(vendor, count, seed, keep, workers, peer_messages),
                    report, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inbound",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run",
                        choices=["run", "prepare", "drain"])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--mark", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20260304)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--workers", type=int, default=1,
                        help="processing processes at once (as many `casedesk worker`s)")
    parser.add_argument("--peer", action="store_true", default=os.environ.get("PEER") == "1",
                        help="also measure django-helpdesk's get_email in this run "
                        "(default when PEER=1; installs the peer from PyPI the first time)")
    parser.add_argument("--peer-messages", type=int, default=PEER_MESSAGES,
                        help=f"messages for the peer's email_bench.py (default {PEER_MESSAGES:,})")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        _setup()
        print(json.dumps(prepare()))
        return 0
    if args.command == "drain":
        _setup()
        print(json.dumps(drain(args.mark)))
        return 0
    if args.messages < 10:
        parser.error("--messages must be at least 10")
    if args.peer_messages < 10:
        parser.error("--peer-messages must be at least 10")
    from bench.target import databases, results_file

    dbs = databases(args.db)
    rows = run(dbs, args.messages, args.seed, args.keep, results_file("inbound"), args.workers,
               args.peer_messages if args.peer else None)
    return 0 if len(rows) == len(dbs) else 1


if __name__ == "__main__":
    sys.exit(main())
