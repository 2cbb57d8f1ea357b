"""The REST API against a real server (issue 7): opening cases over the API with 8 clients
(cases per second, p50/p99) and reading one case (p50/p99), on SQLite and PostgreSQL.

    python -m bench api [--db sqlite|postgres|both] [--cases 10000] [--duration 10]

For each database: a fresh data directory (and database), migrate, seed --cases cases
(bench/seed.py), a token made with `casedesk token create` for the seeded agent, then a
real `casedesk serve` (gunicorn, as deployed) on a free port of 127.0.0.1. Measured from
8 client threads on keep-alive connections:

1. POST /api/v1/cases (JSON, a new requester each time, each with its own
   Idempotency-Key), checked afterwards: the cases grew by exactly the successes;
2. GET /api/v1/cases/{case_id}, with 1 client (latency) and 8 (throughput).

Besides the client-side latencies, the web processes' CPU time per request is reported:
on this shared 2-core machine it is the figure that stays put when the load changes.
Rows are appended as JSON lines to bench/results/<time>-api.jsonl (or the run's file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.target import BenchError, Target, databases, results_file, run_each

CLIENTS = 8
WARMUP_SECONDS = 1.5


class ApiTarget(Target):
    def env(self) -> dict[str, str]:
        env = super().env()
        # The benchmark measures the API, not its rate limit.
        env["CASEDESK_API_RATE_LIMIT"] = "100000000"
        return env


def create_iteration(secret: str) -> loadgen.Iteration:
    def iteration(c: loadgen.Client, i: int, k: int) -> loadgen.Sample:
        body = json.dumps({
            "requester_email": f"api-bench-{os.getpid()}-{i}-{k}-{time.time_ns()}@example.org",
            "subject": f"API bench case {i}-{k}", "priority": "medium",
            "description": "Opened by bench/api.py to measure case creation over the API.",
        }).encode()
        t0 = time.perf_counter()
        status, _location, data = c.request("POST", "/api/v1/cases", body, {
            "Authorization": f"Bearer {secret}", "Content-Type": "application/json",
            "Idempotency-Key": f"bench-{i}-{k}-{time.time_ns()}",
        })
        dt = time.perf_counter() - t0
        if status != 201:
            return loadgen.Sample(False, dt, error=f"POST {status} {data[:200]!r}")
        return loadgen.Sample(True, dt)

    return iteration


def read_iteration(secret: str, case_id: int) -> loadgen.Iteration:
    path = f"/api/v1/cases/{case_id}"

    def iteration(c: loadgen.Client, i: int, k: int) -> loadgen.Sample:
        t0 = time.perf_counter()
        status, _location, data = c.request("GET", path, None,
                                            {"Authorization": f"Bearer {secret}"})
        dt = time.perf_counter() - t0
        if status != 200:
            return loadgen.Sample(False, dt, error=f"GET {status} {data[:200]!r}")
        return loadgen.Sample(True, dt)

    return iteration


def measure(target: Target, vendor: str, label: str, clients: int, seconds: float,
            iteration: loadgen.Iteration) -> dict[str, Any]:
    loadgen.run_closed_loop(target.port, clients, WARMUP_SECONDS, iteration)
    before = target.cpu_seconds()
    result = loadgen.run_closed_loop(target.port, clients, seconds, iteration)
    after = target.cpu_seconds()
    row: dict[str, Any] = {
        "db": vendor, "scenario": label, **result.stats(),
        "web_cpu_ms": round((after["web"] - before["web"]) * 1000 / max(result.ok, 1), 2),
        "load": round(os.getloadavg()[0], 2),
    }
    if result.errors:
        row["first_errors"] = result.first_errors()
    return row


def run_db(vendor: str, cases: int, seconds: float, keep: bool) -> dict[str, Any]:
    target = ApiTarget(vendor, keep=keep)
    try:
        print(f"\n== api on {vendor}: data in {target.data_dir}", flush=True)
        target.create()
        seed = target.seed(cases)
        secret = target.run_casedesk("token", "create", "--email", seed["agent_email"],
                                     "--name", "bench").strip().splitlines()[-1]
        target.start()
        rows = []
        before = target.count_cases()
        row = measure(target, vendor, f"POST /api/v1/cases, {CLIENTS} clients", CLIENTS,
                      seconds, create_iteration(secret))
        # The warm-up's cases count too: compare against every success since `before`.
        created = target.count_cases() - before
        row["check"] = f"cases +{created} (measured {row['ok']} after the warm-up)"
        rows.append(row)
        print(f"   {row['scenario']}: {row['per_s']}/s, p50 {row['p50_ms']} ms, "
              f"p99 {row['p99_ms']} ms, {row['errors']} errors", flush=True)
        for clients in (1, CLIENTS):
            row = measure(target, vendor, f"GET /api/v1/cases/{{id}}, {clients} client(s)",
                          clients, seconds, read_iteration(secret, int(seed["detail_case"])))
            rows.append(row)
            print(f"   {row['scenario']}: {row['per_s']}/s, p50 {row['p50_ms']} ms, "
                  f"p99 {row['p99_ms']} ms", flush=True)
        return {"db": vendor, "cases": seed["cases"], "rows": rows,
                "server": " ".join(Path(a).name for a in target.server_command)}
    finally:
        target.cleanup()


def report(results: list[dict[str, Any]]) -> None:
    print("\n== REST API (issue 7): real `casedesk serve`, client-side latency, web CPU per "
          "request (this 2-core machine is shared: CPU time is the steadier figure)")
    print(f"   {'db':<9}{'scenario':<40}{'per s':>8}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'cpu ms':>8}{'errors':>7}")
    for result in results:
        for row in result["rows"]:
            print(f"   {row['db']:<9}{row['scenario']:<40}{row['per_s']:>8}"
                  f"{row['p50_ms'] or '-':>9}{row['p99_ms'] or '-':>9}{row['web_cpu_ms']:>8}"
                  f"{row['errors']:>7}")


def run(dbs: list[str], cases: int, seconds: float, keep: bool = False,
        out: Path | None = None) -> list[dict[str, Any]]:
    return run_each("api", dbs, lambda vendor: run_db(vendor, cases, seconds, keep), report,
                    out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench api",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=10_000,
                        help="cases seeded before measuring (default 10,000)")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    try:
        found = run(databases(args.db), args.cases, args.duration, args.keep,
                    results_file("api"))
    except BenchError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0 if len(found) == len(databases(args.db)) else 1


if __name__ == "__main__":
    sys.exit(main())
