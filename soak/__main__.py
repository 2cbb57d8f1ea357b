"""`python -m soak`: casedesk under load and faults on PostgreSQL, then on SQLite.

PostgreSQL: two web processes, two workers and the mail listener; 16 clients (portal,
API, SMTP) for --seconds; one worker is SIGKILLed and restarted, and one web process's
database connections are cut (pg_terminate_backend). SQLite: `casedesk serve` with 8
clients; one gunicorn worker process is SIGKILLed mid-run (gunicorn starts another).
Then the queues drain (bounded) and the audit holds the database and the mail sink to the
clients' ledgers. Exit status 1 on any violation. See docs/soak.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from typing import Any

from soak import audit
from soak.clients import ApiClient, Base, MailClient, PortalClient, World, screenshot
from soak.deployment import Deployment
from soak.sink import Sink

SIGNED_IN = ["noor@gulfnet.example", "omar@gulfnet.example", "karim@atlasbb.example",
             "lina@atlasbb.example"]
API_CONTACTS = ["noor@gulfnet.example", "omar@gulfnet.example"]


def mix(clients: int) -> dict[str, int]:
    """16 clients: 6 portal (4 signed in), 5 API, 5 SMTP; smaller runs keep the shape."""
    portal = max(1, round(clients * 6 / 16))
    api = max(1, round(clients * 5 / 16))
    return {"portal": portal, "api": api, "smtp": max(1, clients - portal - api)}


def say(text: str) -> None:
    print(text, flush=True)


class Faults(threading.Thread):
    """Injects the deployment's faults at set fractions of the run and logs them."""

    def __init__(self, dep: Deployment, seconds: float, t0: float) -> None:
        super().__init__(name="soak-faults", daemon=True)
        self.dep, self.seconds, self.t0 = dep, seconds, t0
        self.log: list[str] = []
        self.problems: list[str] = []

    def at(self, fraction: float) -> None:
        time.sleep(max(0.0, self.t0 + self.seconds * fraction - time.monotonic()))

    def note(self, text: str) -> None:
        line = f"t={time.monotonic() - self.t0:5.1f}s {text}"
        self.log.append(line)
        say(f"  fault: {line}")

    def run(self) -> None:
        try:
            if self.dep.topology == "postgres":
                self.postgres()
            else:
                self.sqlite()
        except Exception as exc:  # noqa: BLE001 - reported as a failed injection
            self.problems.append(f"fault injection failed: {type(exc).__name__}: {exc}")

    def postgres(self) -> None:
        self.at(0.3)
        pid = self.dep.kill("worker-1")
        self.note(f"SIGKILL worker-1 (pid {pid})")
        time.sleep(2)
        self.dep.restart("worker-1")
        self.note("worker-1 restarted")
        self.at(0.55)
        for _ in range(20):
            cut = self.dep.cut_database("web-1")
            if cut:
                self.note(f"cut web-1's database connection ({cut} backend(s) terminated)")
                return
            time.sleep(0.25)
        self.problems.append("web-1 had no database connection to cut")

    def sqlite(self) -> None:
        self.at(0.4)
        workers = self.dep.gunicorn_workers()
        if not workers:
            self.problems.append("no gunicorn worker process to kill")
            return
        os.kill(workers[0], 9)
        self.note(f"SIGKILL gunicorn worker pid {workers[0]} of casedesk serve")


def soak_one(topology: str, clients: int, seconds: float, drain_seconds: float,
             threads: int) -> bool:
    say(f"\n=== {topology}: {clients} clients for {seconds:.0f} s ===")
    sink = Sink()
    dep = Deployment(topology, sink.start())
    world = World(run=uuid.uuid4().hex[:8], sink=sink)
    ok = False
    try:
        t_setup = time.monotonic()
        tokens = dep.prepare(API_CONTACTS)
        dep.plan(threads)
        dep.start()
        say(f"  set up in {time.monotonic() - t_setup:.0f} s: "
            + ", ".join(dep.processes) + f"; web on {dep.web_ports}, smtp on {dep.smtp_port}")
        shape = mix(clients)
        png = screenshot()
        pool: list[Base] = []
        for i in range(shape["portal"]):
            email = SIGNED_IN[i] if i < len(SIGNED_IN) and i < shape["portal"] - 2 else None
            if shape["portal"] <= 2:
                email = SIGNED_IN[0] if i == 0 else None
            port = dep.web_ports[i % len(dep.web_ports)]
            pool.append(PortalClient(world, i, 1000 + i, port, email, png))
        for i in range(shape["api"]):
            port = dep.web_ports[i % len(dep.web_ports)]
            token = tokens[API_CONTACTS[i % len(API_CONTACTS)]]
            pool.append(ApiClient(world, i, 2000 + i, port, token))
        for i in range(shape["smtp"]):
            pool.append(MailClient(world, i, 3000 + i, dep.smtp_port, png))
        for c in pool:
            c.prepare()
        cpu0 = os.times()
        load0 = os.getloadavg()
        t0 = time.monotonic()
        world.deadline = t0 + seconds
        faults = Faults(dep, seconds, t0)
        faults.start()
        for c in pool:
            c.start()
        for c in pool:
            c.join(timeout=seconds + 120)
        elapsed = time.monotonic() - t0
        faults.join(timeout=5)
        load1 = os.getloadavg()
        waited, left = audit.drain(dep, drain_seconds)
        ledgers = [a for c in pool for a in c.ledger]
        kills = sum(p.restarts for p in dep.processes.values())
        found = audit.audit(dep, world.run, ledgers, sink, left, allowed_resends=kills)
        for c in pool:
            if c.failure or c.is_alive():
                found.fail(f"client {c.name} broke: {c.failure or 'still running'}")
        for problem in faults.problems:
            found.fail(problem)
        rows = audit.figures(ledgers, elapsed)
        report(topology, clients, elapsed, waited, rows, faults.log, found, load0, load1,
               cpu0, dep.logged_errors())
        ok = not found.violations
    finally:
        dep.stop()
        sink.stop()
        if ok:
            dep.cleanup()
        else:
            dep.keep = True
            say(f"  kept for inspection: {dep.data_dir}"
                + (f", database {dep.pg_name}" if dep.vendor == "postgres" else ""))
            dep.cleanup()
    return ok


def report(topology: str, clients: int, elapsed: float, waited: float,
           rows: list[dict[str, Any]], faults: list[str], found: audit.Findings,
           load0: tuple[float, ...], load1: tuple[float, ...], cpu0: Any,
           tracebacks: dict[str, int]) -> None:
    total = sum(r["attempts"] for r in rows)
    say(f"  ran {elapsed:.1f} s, drained in {waited:.1f} s; load average "
        f"{load0[0]:.2f} at start, {load1[0]:.2f} at end")
    say(f"  {'kind':<11}{'attempts':>9}{'accepted':>9}{'per s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'retried':>8}  errors")
    for r in rows:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "-"
        say(f"  {r['kind']:<11}{r['attempts']:>9}{r['accepted']:>9}{r['per_s']:>8}"
            f"{r['p50_ms'] or '-':>9}{r['p99_ms'] or '-':>9}{r['retried']:>8}  {errors}")
    say(f"  all: {total} requests, {total / elapsed:.1f}/s")
    say("  tracebacks in the server logs: "
        + ", ".join(f"{k} {v}" for k, v in tracebacks.items()))
    for note in found.notes[:10]:
        say(f"  note: {note}")
    if found.violations:
        say(f"  FAILED: {len(found.violations)} violation(s)")
        for v in found.violations[:40]:
            say(f"    - {v}")
    else:
        say("  PASSED: every accepted submission, reply and mail stored exactly once, every "
            "acknowledgement sent exactly once, no job stuck")
    print(json.dumps({"topology": topology, "clients": clients, "seconds": round(elapsed, 1),
                      "drain_seconds": round(waited, 1), "rows": rows, "faults": faults,
                      "violations": found.violations, "load": [load0[0], load1[0]]}),
          file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("SOAK_SECONDS", "60")),
                        help="Load per deployment (default 60, or $SOAK_SECONDS).")
    parser.add_argument("--clients", type=int, default=16, help="PostgreSQL clients.")
    parser.add_argument("--sqlite-clients", type=int, default=8, help="SQLite clients.")
    parser.add_argument("--drain", type=float, default=180,
                        help="Longest wait for the queues to empty afterwards (s).")
    parser.add_argument("--threads", type=int, default=4, help="Threads per web process.")
    parser.add_argument("--only", choices=["postgres", "sqlite"], default=None)
    args = parser.parse_args(argv)
    results = {}
    if args.only in (None, "postgres"):
        results["postgres"] = soak_one("postgres", args.clients, args.seconds, args.drain,
                                       args.threads)
    if args.only in (None, "sqlite"):
        results["sqlite"] = soak_one("sqlite", args.sqlite_clients, args.seconds, args.drain,
                                     args.threads)
    say("\n" + ", ".join(f"{k}: {'passed' if v else 'FAILED'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
