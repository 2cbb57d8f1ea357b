"""`python -m bench`: casedesk's first benchmark (issue 2), on SQLite and PostgreSQL.

    python -m bench [--db sqlite|postgres|both] [--cases 100000] [--duration 10]
    python -m bench desk [--db ...] [--cases 1000000]    # issue 5: bench/desk.py
    python -m bench api [--db ...] [--cases 10000]       # issue 7: bench/api.py

For each database: a fresh data directory (and database), migrate, seed --cases cases,
start a real `casedesk serve` on a free port of 127.0.0.1, then measure

1. portal submissions with 4 clients (GET /submit/, then a multipart POST), without and
   with a 200 KB PNG screenshot, and check that the cases grew by exactly the successes;
2. the agent's case list (/desk/) and a case page, 1 client (latency) and 4 (throughput);

print a table and a summary against the issue's targets and django-helpdesk's figures,
and append every row as a JSON line to bench/results/. PEER=1 also runs the peer's own
scripts (minutes) and prints ratios from numbers measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.png import make_png
from bench.report import summary, table
from bench.target import REPO, BenchError, Target

RESULTS = Path(__file__).resolve().parent / "results"
SUBMIT_CLIENTS = 4


def cpu_ms() -> float:
    """A fixed pure-Python loop, timed: this VM's speed drifts under load, and a row
    measured on a slowed CPU shows it here (lower is faster)."""
    t0 = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return round((time.perf_counter() - t0) * 1000, 1)


def git_commit() -> str:
    try:
        return subprocess.run(  # noqa: S603, S607
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Bench:
    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.args = args
        self.out = out
        self.png = make_png(200 * 1024)

    def record(self, row: dict[str, Any]) -> dict[str, Any]:
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        return row

    def pause(self) -> float:
        time.sleep(self.args.cool)
        return cpu_ms()

    def measure(
        self, target: Target, db: str, key: str, scenario: str, clients: int,
        iteration: loadgen.Iteration, prepare: Any = None, seconds: float | None = None,
    ) -> tuple[dict[str, Any], loadgen.RunResult, dict[str, float]]:
        cpu = self.pause()
        used = target.cpu_seconds()
        result = loadgen.run_closed_loop(
            target.port, clients, seconds or self.args.duration, iteration, prepare
        )
        after = target.cpu_seconds()
        per_op = max(result.ok, 1)
        row = {"db": db, "key": key, "scenario": scenario, **result.stats(), "cpu_ms": cpu,
               "load": round(os.getloadavg()[0], 2),
               "web_cpu_ms": round((after["web"] - used["web"]) * 1000 / per_op, 2),
               "worker_cpu_ms": round((after["worker"] - used["worker"]) * 1000 / per_op, 2)}
        if result.errors:
            row["first_errors"] = result.first_errors()
        return row, result, used

    # ---------------------------------------------------------------- scenarios

    def submissions(self, target: Target, db: str, seed: dict[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for key, label, attachment in [
            ("submit", "submit, no attachment", None),
            ("submit_png", "submit, 200 KB PNG", self.png),
        ]:
            try:
                plan = loadgen.plan_submission(target.port, "/submit/", seed["email_domains"],
                                               attachment)
            except (loadgen.HttpError, OSError) as exc:
                rows.append(self.record({"db": db, "key": key, "scenario": label,
                                         "skipped": str(exc)}))
                continue
            iteration = loadgen.submit_iteration(plan)
            # Warm every gunicorn worker (templates, first queries) outside the clock.
            loadgen.run_closed_loop(target.port, SUBMIT_CLIENTS, 1.5, iteration)
            self.drain_mail(target)
            before = target.count_cases()
            row, result, used = self.measure(target, db, key, label, SUBMIT_CLIENTS, iteration)
            after = target.count_cases()
            row["fields"] = sorted(k for k in plan.values(random.Random(0), 0, 0))
            row["cases_before"], row["cases_after"] = before, after
            delta = after - before
            row["check"] = (f"cases +{delta} OK" if delta == result.ok
                            else f"cases +{delta} MISMATCH (ok {result.ok})")
            row["mail_backlog"] = target.mail_backlog()
            row["mail_drain_s"] = self.drain_mail(target)
            # The worker lags behind a burst: its CPU per case is counted until it caught up.
            drained = target.cpu_seconds()["worker"] - used["worker"]
            row["worker_cpu_ms"] = round(drained * 1000 / max(result.ok, 1), 2)
            rows.append(self.record(row))
        return rows

    def drain_mail(self, target: Target) -> float | None:
        """Wait (bounded) for the worker to deliver the mail the submissions queued, so the
        next measurement does not pay for it. Returns the seconds it took, None if it
        did not finish within --drain seconds."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < self.args.drain:
            if target.mail_backlog() == 0:
                return round(time.monotonic() - t0, 1)
            time.sleep(0.5)
        return None

    def desk(self, target: Target, db: str, seed: dict[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        agent = loadgen.Client(target.port)
        try:
            loadgen.sign_in(agent, "/accounts/signin/", seed["agent_email"],
                            seed["agent_password"])
        except (loadgen.HttpError, OSError) as exc:
            for key, label in [("list", "desk case list /desk/"), ("case", "desk case page")]:
                rows.append(self.record({"db": db, "key": key, "scenario": label,
                                         "skipped": str(exc)}))
            return rows
        finally:
            agent.close()
        cookies = dict(agent.cookies)

        def prepare(c: loadgen.Client, i: int) -> None:
            c.cookies.update(cookies)

        for key, label, path in [
            ("list", "desk case list /desk/", "/desk/"),
            ("case", f"desk case page ({seed['detail_messages']} msgs)",
             f"/desk/cases/{seed['detail_case']}/"),
        ]:
            probe = loadgen.Client(target.port)
            prepare(probe, 0)
            status, location, body = probe.request("GET", path)
            probe.close()
            if status != 200:
                rows.append(self.record({"db": db, "key": key, "scenario": label,
                                         "skipped": f"GET {path} answered {status} {location}"}))
                continue
            iteration = loadgen.get_iteration(path)
            loadgen.run_closed_loop(target.port, SUBMIT_CLIENTS, 1.0, iteration, prepare)
            for clients in (1, SUBMIT_CLIENTS):
                row, _, _ = self.measure(target, db, key, label, clients, iteration, prepare)
                row["path"], row["bytes"] = path, len(body)
                rows.append(self.record(row))
        return rows

    # ---------------------------------------------------------------- one database

    def run_db(self, db: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        target = Target(db, keep=self.args.keep)
        info: dict[str, Any] = {"db": db}
        try:
            print(f"\n== {db}: data in {target.data_dir}", flush=True)
            t0 = time.perf_counter()
            target.create()
            info["migrate_s"] = round(time.perf_counter() - t0, 1)
            print(f"   migrated in {info['migrate_s']} s; seeding {self.args.cases:,} cases",
                  flush=True)
            seed = target.seed(self.args.cases)
            info.update({k: v for k, v in seed.items() if k != "email_domains"})
            print(f"   seeded {seed['cases']:,} cases, {seed['messages']:,} messages, "
                  f"{seed['events']:,} events in {seed['seed_s']} s "
                  f"(+ ANALYZE {seed['analyze_s']} s)", flush=True)
            target.start(self.args.serve_arg)
            info["server"] = " ".join(Path(a).name if a == sys.executable else a
                                      for a in target.server_command)
            print(f"   server: {info['server']}", flush=True)
            rows = self.submissions(target, db, seed)
            rows += self.desk(target, db, seed)
            info["db_mb"] = target.size_mb()
            info["server_peak_rss_mb"] = target.peak_rss_mb()
            info["cases_end"] = target.count_cases()
            if any(r.get("errors") for r in rows):
                info["server_log_tail"] = target.log_tail(15)
            return rows, info
        finally:
            target.cleanup()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=100_000,
                        help="cases seeded before measuring (default 100,000)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds per measurement (default 10)")
    parser.add_argument("--cool", type=float, default=3.0,
                        help="idle seconds before each measurement (default 3)")
    parser.add_argument("--drain", type=float, default=90.0,
                        help="at most this long to wait for queued mail after a submit run")
    parser.add_argument("--serve-arg", action="append", default=[],
                        help="extra argument for `casedesk serve` (repeatable), "
                        "e.g. --serve-arg=--workers=3")
    parser.add_argument("--keep", action="store_true",
                        help="keep the data directories and the PostgreSQL database")
    parser.add_argument("--no-sweep", action="store_true",
                        help="skip the SLA sweep benchmark (bench/sweep.py)")
    parser.add_argument("--sweep-open", type=int, default=1_000_000,
                        help="open cases seeded for the SLA sweep benchmark (default 1,000,000)")
    parser.add_argument("--sweep-due", type=int, default=10_000,
                        help="of which due in the measured sweep (default 10,000)")
    parser.add_argument("--no-inbound", action="store_true",
                        help="skip the inbound mail benchmark (bench/inbound.py)")
    parser.add_argument("--inbound-messages", type=int, default=10_000,
                        help="messages sent and imported by the inbound mail benchmark")
    parser.add_argument("--no-api", action="store_true",
                        help="skip the REST API benchmark (bench/api.py)")
    parser.add_argument("--api-cases", type=int, default=10_000,
                        help="cases seeded for the REST API benchmark (default 10,000)")
    args = parser.parse_args(argv)
    if args.cases < 10:
        parser.error("--cases must be at least 10")
    if not 1 <= args.duration <= 60:
        parser.error("--duration must be between 1 and 60 seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["desk"]:
        # Issue 5's desk at a million cases (bench/desk.py): its own databases and peer run.
        from bench.desk import main as desk_main

        return desk_main(argv[1:])
    if argv[:1] == ["api"]:
        # Issue 7's REST API (bench/api.py): its own databases and server.
        from bench.api import main as api_main

        return api_main(argv[1:])
    args = parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{stamp}.jsonl"
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    meta = {
        "run": stamp, "commit": git_commit(), "cases": args.cases, "duration": args.duration,
        "cores": os.cpu_count(), "python": platform.python_version(), "cpu_ms": cpu_ms(),
        "load": round(os.getloadavg()[0], 2),
    }
    bench = Bench(args, out)
    bench.record({"meta": meta})
    print(f"casedesk bench {stamp} (commit {meta['commit']}): {', '.join(dbs)}, "
          f"{args.cases:,} cases, {args.duration:g} s per measurement, {meta['cores']} cores, "
          f"load {meta['load']}")
    results: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    failed = False
    for db in dbs:
        try:
            results[db] = bench.run_db(db)
        except BenchError as exc:
            print(f"{db}: {exc}", file=sys.stderr)
            failed = True
            continue
        bench.record({"info": results[db][1]})

    peers: dict[str, dict[str, float]] = {}
    if os.environ.get("PEER") == "1":
        from bench.peer import run_peer

        for db in results:
            print(f"\n== django-helpdesk 2.6.1 on {db} (the peer's own scripts; minutes)",
                  flush=True)
            try:
                peers[db] = run_peer(db, args.cases, RESULTS / f"{stamp}-peer-{db}.log")
                bench.record({"peer": db, **peers[db]})
            except (OSError, subprocess.SubprocessError, KeyError, ValueError) as exc:
                print(f"   peer run failed: {exc}", file=sys.stderr)

    for db, (rows, info) in results.items():
        print(f"\n== {db}: {info.get('cases', 0):,} seeded cases "
              f"(seed {info.get('seed_s')} s), {info.get('db_mb')} MB, "
              f"server peak RSS {info.get('server_peak_rss_mb')} MB per process")
        print(f"   {info.get('server')}")
        print(table(rows))
        for r in rows:
            if r.get("key", "").startswith("submit") and not r.get("skipped"):
                drained = r.get("mail_drain_s")
                print(f"   {r['scenario']}: background worker {r['worker_cpu_ms']} ms CPU per "
                      f"case; mail still queued at the end {r['mail_backlog']}, "
                      + (f"all delivered {drained} s later" if drained is not None
                         else f"not delivered within {args.drain:g} s"))
        if info.get("server_log_tail"):
            print("   server log (tail):\n      "
                  + info["server_log_tail"].replace("\n", "\n      "))
    print("\n== summary (targets from issue 2; peer: django-helpdesk 2.6.1, "
          "../shared/peers/django-helpdesk/README.md)")
    for db, (rows, _info) in results.items():
        for line in summary(db, rows, peers.get(db)):
            print(line)
    if not args.no_sweep:
        # Issue 3's SLA sweep: its own databases and seed (bench/sweep.py).
        from bench.sweep import run as run_sweep

        swept = run_sweep(dbs, args.sweep_open, args.sweep_due, keep=args.keep, out=out)
        failed = failed or len(swept) != len(dbs)
    if not args.no_inbound:
        # Issue 4's inbound mail: its own databases and messages (bench/inbound.py).
        from bench.inbound import run as run_inbound
        from bench.peer import PEER_MESSAGES

        # PEER=1: the peer's e-mail ingestion too, so "vs peer" is measured in this run.
        received = run_inbound(dbs, args.inbound_messages, keep=args.keep, out=out,
                               peer_messages=PEER_MESSAGES if os.environ.get("PEER") == "1"
                               else None)
        failed = failed or len(received) != len(dbs)
    if not args.no_api:
        # Issue 7's REST API: create-case and GET case against a real server (bench/api.py).
        from bench.api import run as run_api

        measured = run_api(dbs, args.api_cases, args.duration, keep=args.keep, out=out)
        failed = failed or len(measured) != len(dbs)
    print(f"\nraw results: {out.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
