"""The agent desk at a million cases (issue 5, points 9 and 10), against django-helpdesk.

    python -m bench.desk [--db sqlite|postgres|both] [--cases 1000000] [--rss-cases 100000]
                         [--no-peer] [--peer-cases N] [--samples 40] [--budget 40]

Per database and size: a database seeded by `casedesk bench-seed` (kept and reused while it
holds the asked number of cases: seeding a million takes minutes), then, in a separate
process configured for that database, server-side latencies of the desk's pages.

Server-side, measured in-process: Django's test Client sends each request through the
whole stack a gunicorn worker runs (middleware, session and sign-in, view, queries,
template), and the time is taken around it; what is left out is the socket and HTTP parsing
(well under a millisecond) and the client's own scheduling, which on this shared 2-core
machine is the largest source of noise. That process is the web worker whose memory is
reported (its RSS after every scenario ran, at --rss-cases and at --cases: it must not grow
with the number of cases). Scenarios a branch does not have yet (search, reports) are
reported as "not available", never as a failure.

django-helpdesk 2.6.1 (from PyPI, in its own virtual environment under var/peer-dh, set up
by ../shared/peers/django-helpdesk/setup.sh and seeded by its seed.py) runs the equivalent
pages the same way (bench/peer_desk.py in its interpreter), at the same number of tickets
unless --peer-cases says otherwise; the table puts both side by side with the ratio.
Rows are also appended as JSON lines to bench/results/<time>-desk.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var" / "bench"
RESULTS = Path(__file__).resolve().parent / "results"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PEER_SCRIPTS = (REPO.parent.parent / "shared" / "peers" / "django-helpdesk"
                if (REPO.parent.parent / "shared").is_dir()
                else REPO.parent / "shared" / "peers" / "django-helpdesk")
PEER_ROOT = REPO / "var" / "peer-dh"
PEER_MAX_DEFAULT = 100_000

# Issue 5's targets, p50 in ms.
TARGETS = {"open": 50.0, "breaching": 50.0, "filtered": 50.0, "search_rare": 150.0,
           "search_common": 150.0, "search_arabic": 150.0, "case": 50.0, "report": 2000.0}
LABELS = {
    "open": "All open view", "breaching": "Breaching soon", "filtered": "Filtered view",
    "search_rare": "Search, rare word", "search_common": "Search, common word",
    "search_arabic": "Search, Arabic word", "case": "Case page, 50 messages",
    "report": "Report, 90 days", "report_build": "reports.build(), 90 days",
}
# django-helpdesk 2.6.1 at 100,000 tickets, as issue 5 quotes them (client-side, gunicorn).
ISSUE_PEER = {"open": 941.0, "search_common": 512.0, "case": 51.0, "report": 2400.0}


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def size_label(cases: int) -> str:
    if cases % 1_000_000 == 0:
        return f"{cases // 1_000_000}m"
    if cases % 1000 == 0:
        return f"{cases // 1000}k"
    return str(cases)


# ------------------------------------------------------------------ databases


class Database:
    """A database seeded with `cases` cases, reused across runs while it still matches."""

    def __init__(self, vendor: str, cases: int, pg_name: str = "") -> None:
        self.vendor = vendor
        self.cases = cases
        label = size_label(cases)
        # Several checkouts share one PostgreSQL server: --pg-name keeps each one's own
        # database apart (its summary then lives in a folder named after it too).
        self.pg_name = pg_name.replace("{size}", label) if pg_name else f"casedesk_bench{label}"
        suffix = f"-{self.pg_name}" if vendor == "postgres" and pg_name else ""
        self.data_dir = VAR / f"{vendor}-{label}{suffix}"
        self.summary_path = self.data_dir / "seed.json"

    @property
    def url(self) -> str:
        return f"{PG_SERVER}/{self.pg_name}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASEDESK_")}
        env.update({"CASEDESK_DATA_DIR": str(self.data_dir), "CASEDESK_LOG_LEVEL": "WARNING",
                    "DJANGO_SETTINGS_MODULE": "casedesk.settings",
                    "PYTHONPATH": str(REPO)})
        if self.vendor == "postgres":
            env["CASEDESK_DATABASE_URL"] = self.url
        return env

    def count(self) -> int | None:
        """The cases in the database, None when it does not exist (or is not migrated)."""
        sql = "SELECT count(*) FROM tickets_ticket"
        if self.vendor == "sqlite":
            path = self.data_dir / "casedesk.sqlite3"
            if not path.exists():
                return None
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
                try:
                    return int(conn.execute(sql).fetchone()[0])
                finally:
                    conn.close()
            except sqlite3.Error:
                return None
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as pg:
                row = pg.execute(sql).fetchone()  # type: ignore[arg-type]
                return int(row[0]) if row else None
        except psycopg.Error:
            return None

    def summary(self) -> dict[str, Any] | None:
        if not self.summary_path.exists():
            return None
        return dict(json.loads(self.summary_path.read_text(encoding="utf-8")))

    def ready(self) -> dict[str, Any] | None:
        summary = self.summary()
        if summary and summary.get("cases") == self.cases and self.count() == self.cases:
            return summary
        return None

    def seed(self) -> dict[str, Any]:
        """A fresh database, migrated and seeded; the summary is kept next to it."""
        import shutil

        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True)
        if self.vendor == "postgres":
            import psycopg

            try:
                with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True,
                                     connect_timeout=5) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
                    conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            except psycopg.OperationalError as exc:
                raise BenchError(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc}") from None
        run = [sys.executable, "-m", "casedesk"]
        subprocess.run([*run, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=self.env(),
                       check=True)
        t0 = time.perf_counter()
        result = subprocess.run(  # noqa: S603 - our own interpreter and command
            [*run, "bench-seed", "--cases", str(self.cases), "--json"], cwd=REPO,
            env=self.env(), stdout=subprocess.PIPE, text=True, check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"casedesk bench-seed failed on {self.vendor} (see above)")
        summary = dict(json.loads(result.stdout.strip().splitlines()[-1]))
        summary["wall_s"] = round(time.perf_counter() - t0, 1)
        summary["db_mb"] = self.size_mb()
        self.summary_path.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
        return summary

    def size_mb(self) -> float | None:
        if self.vendor == "sqlite":
            path = self.data_dir / "casedesk.sqlite3"
            return round(path.stat().st_size / 2**20) if path.exists() else None
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return round(row[0] / 2**20) if row else None


    def catch_up(self, summary: dict[str, Any]) -> dict[str, Any]:
        """A database seeded by an earlier branch, brought up to this one: its migrations,
        and the search index when this branch has one and the seed could not build it."""
        run = [sys.executable, "-m", "casedesk"]
        subprocess.run([*run, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=self.env(),
                       check=True)
        if summary.get("search_index") != "rebuilt":
            script = ("import importlib.util, django\n"
                      "django.setup()\n"
                      "if importlib.util.find_spec('casedesk.search') and "
                      "importlib.util.find_spec('casedesk.search.index'):\n"
                      "    from casedesk.search import index\n"
                      "    index.rebuild()\n"
                      "    print('rebuilt')\n")
            t0 = time.perf_counter()
            result = subprocess.run(  # noqa: S603 - our own interpreter
                [sys.executable, "-c", script], cwd=REPO, env=self.env(), stdout=subprocess.PIPE,
                text=True, check=True,
            )
            if result.stdout.strip().endswith("rebuilt"):
                summary["search_index"] = "rebuilt"
                summary.setdefault("phases_s", {})["search index rebuild (later)"] = round(
                    time.perf_counter() - t0, 1)
                self.summary_path.write_text(json.dumps(summary, ensure_ascii=False),
                                             encoding="utf-8")
        return summary


def prepared(vendor: str, cases: int, pg_name: str = "",
             ) -> tuple[Database, dict[str, Any], bool]:
    db = Database(vendor, cases, pg_name)
    summary = db.ready()
    if summary:
        print(f"-- {vendor}: reusing the {cases:,}-case database ({db.data_dir.name}"
              + (f", {db.pg_name}" if vendor == "postgres" else "") + "): migrate, and "
              "build the search index if it is new", flush=True)
        summary = db.catch_up(summary)
        summary["db_mb"] = db.size_mb()
        return db, summary, False
    existing = db.count() if vendor == "postgres" and pg_name else None
    if existing:
        # A database the caller named, holding cases the bench has no record of seeding
        # (its seed.json is gone with a checkout): never drop it without being told.
        raise BenchError(
            f"PostgreSQL database {db.pg_name} holds {existing:,} cases, but there is no "
            f"seed summary for it at {db.summary_path}: not dropping it. Drop it yourself "
            f"(dropdb -h 127.0.0.1 -U postgres {db.pg_name}) to seed it again, or name "
            "another database with --pg-name."
        )
    print(f"-- {vendor}: seeding {cases:,} cases (casedesk bench-seed)", flush=True)
    return db, db.seed(), True


def run_measure(db: Database, summary: dict[str, Any], samples: int, budget: float,
                ) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.desk", "--measure", str(db.summary_path),
         "--samples", str(samples), "--budget", str(budget)],
        cwd=REPO, env=db.env(), capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"measuring failed on {db.vendor}:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


# ------------------------------------------------------------------ measuring (in the worker)


def _percentile(sorted_ms: list[float], p: float) -> float:
    k = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return round(sorted_ms[k], 2)


def _rss() -> dict[str, float]:
    """This process's resident memory in MiB: total, its heap (anonymous) and the mapped
    files (SQLite's mmap of the database counts there and grows with the file)."""
    found: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def timed(get: Any, urls: list[str], samples: int, budget: float) -> dict[str, Any]:
    """Latencies of GETs cycling through `urls`: at least 3, at most `samples`, within
    `budget` seconds (so a page that takes seconds does not take the run hours)."""
    times: list[float] = []
    cpu: list[float] = []
    calib = calibration_ms()
    started = time.perf_counter()
    i = 0
    while len(times) < samples and (len(times) < 3 or time.perf_counter() - started < budget):
        t0, c0 = time.perf_counter(), time.process_time()
        response = get(urls[i % len(urls)])
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        if response.status_code != 200:
            return {"error": f"HTTP {response.status_code} from {urls[i % len(urls)]}"}
        i += 1
    times.sort()
    cpu.sort()
    return {"n": len(times), "p50_ms": _percentile(times, 50), "p99_ms": _percentile(times, 99),
            "max_ms": round(times[-1], 2), "cpu_p50_ms": _percentile(cpu, 50),
            "calib_ms": calib, "calib_cpu_ms": calibration_cpu_ms(),
            "load": round(os.getloadavg()[0], 1)}


def calibration_ms() -> float:
    """A fixed pure-Python loop (the one bench/__main__.py uses), timed: on this shared VM
    a slowed or busy CPU shows here (lower is faster; ~60 ms when the machine is idle)."""
    t0 = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return round((time.perf_counter() - t0) * 1000, 1)


def calibration_cpu_ms() -> float:
    """The same loop in CPU time: when it stays near its idle value while the wall time
    grows, the process waited for a core, and CPU per request is the idle latency."""
    t0 = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return round((time.process_time() - t0) * 1000, 1)


def measure(summary_path: str, samples: int, budget: float) -> dict[str, Any]:
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from casedesk.accounts.models import User

    summary = json.loads(Path(summary_path).read_text(encoding="utf-8"))
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(User.objects.get(email=summary["agent_email"]))
    orgs = summary["organization_ids"][:20]
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=89)).isoformat()
    end = today.isoformat()

    def named(name: str, *args: Any, query: str = "") -> list[str]:
        try:
            return [reverse(name, args=args) + query]
        except NoReverseMatch:
            return []

    def q(word: str) -> str:
        from urllib.parse import quote

        return quote(word)

    # Each scenario: URL candidates, first that answers 200 wins (the queue, search and
    # report pages are being rebuilt on other branches); {org} rotates over organizations.
    def view(name: str, query: str = "") -> list[str]:
        return [*named(f"desk:{name}", query=query),
                *named("desk:view", name, query=query),
                *named("desk:queue", name, query=query),
                f"/desk/{name}/{query}", f"/desk/views/{name}/{query}",
                f"/desk/?view={name}{query.replace('?', '&')}"]

    scenarios: list[tuple[str, list[str]]] = [
        ("open", view("open")),
        ("breaching", view("breaching")),
        ("filtered", view("open", "?priority=2&organization={org}")),
        ("search_rare", [*named("desk:search", query=f"?q={summary['rare_word']}"),
                         f"/desk/search/?q={summary['rare_word']}"]),
        ("search_common", [*named("desk:search", query=f"?q={summary['common_word']}"),
                           f"/desk/search/?q={summary['common_word']}"]),
        ("search_arabic", [f"/desk/search/?q={q(summary['arabic_word'])}"]),
        ("case", [f"/desk/cases/{summary['detail_case']}/"]),
        ("report", [*named("desk:reports", query=f"?start={start}&end={end}"),
                    *named("reports:index", query=f"?start={start}&end={end}"),
                    f"/desk/reports/?start={start}&end={end}"]),
    ]
    rows: dict[str, Any] = {}
    for key, candidates in scenarios:
        chosen = None
        tried = []
        for url in candidates:
            status = client.get(url.format(org=orgs[0])).status_code
            tried.append(f"{url.split('?')[0]} {status}")
            if status == 200:
                chosen = url
                break
        if chosen is None:
            rows[key] = {"skipped": "not available (" + ", ".join(dict.fromkeys(tried)) + ")"}
            continue
        urls = [chosen.format(org=o) for o in orgs] if "{org}" in chosen else [chosen]
        client.get(urls[0])  # warm: templates, caches, the database's pages
        with CaptureQueriesContext(connection) as queries:
            client.get(urls[-1])
        # Read now: the next request's request_started signal empties the query log.
        captured = list(queries.captured_queries)
        slowest = max(captured, key=lambda c: float(c["time"]),
                      default={"sql": "", "time": "0"})
        row = timed(client.get, urls, samples if key != "report" else 10, budget)
        row.update(url=chosen, queries=len(captured),
                   slowest_query_ms=round(float(slowest["time"]) * 1000, 1),
                   slowest_query=str(slowest["sql"])[:400])
        rows[key] = row
    rows["report_build"] = report_build(start, end, budget)
    memory = _rss()
    # A second pass over the pages: the worker must not keep growing while it serves.
    for row in list(rows.values()):
        if "url" in row:
            chosen = row["url"]
            urls = [chosen.format(org=o) for o in orgs] if "{org}" in chosen else [chosen]
            timed(client.get, urls, 5, budget)
    final = _rss()
    if connection.vendor == "sqlite":
        # SQLite's page cache lives in the worker's heap and fills up to cache_size (64 MiB
        # a connection, settings.py) as more of a bigger file is read: bounded, but not the
        # application's memory. Its peak, taken from the heap, leaves the application's.
        peak = sqlite_memory_peak()
        if peak is not None:
            final["sqlite_peak"] = peak
            final["heap_without_sqlite"] = round(final.get("RssAnon", 0.0) - peak, 1)
    return {"rows": rows, "rss_after_first_pass": memory, "rss_end": final,
            "vendor": connection.vendor}


def sqlite_memory_peak() -> float | None:
    """The most memory (MiB) the SQLite library held at once in this process, page caches
    included (sqlite3_memory_highwater), or None where the library does not say."""
    import _sqlite3
    import ctypes
    import ctypes.util

    for name in (_sqlite3.__file__, ctypes.util.find_library("sqlite3")):
        try:
            highwater = ctypes.CDLL(name).sqlite3_memory_highwater
        except (OSError, AttributeError, TypeError):
            continue
        highwater.restype = ctypes.c_int64
        return round(highwater(0) / 2**20, 1)
    return None


def report_build(start: str, end: str, budget: float) -> dict[str, Any]:
    """casedesk.reports.build over 90 days, called directly, when the app exists."""
    import importlib.util
    from datetime import date

    if importlib.util.find_spec("casedesk.reports") is None:
        return {"skipped": "not available (no casedesk.reports)"}
    import casedesk.reports as reports

    build = getattr(reports, "build", None)
    if build is None:
        return {"skipped": "not available (no casedesk.reports.build)"}
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    times: list[float] = []
    began = time.perf_counter()
    while len(times) < 10 and (len(times) < 3 or time.perf_counter() - began < budget):
        t0 = time.perf_counter()
        build(first, last)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"n": len(times), "p50_ms": _percentile(times, 50), "p99_ms": _percentile(times, 99),
            "url": "casedesk.reports.build(start, end)"}


# ------------------------------------------------------------------ the peer


def peer(cases: int, samples: int, budget: float) -> dict[str, Any]:
    """django-helpdesk 2.6.1 in its own venv (var/peer-dh), seeded to `cases` tickets."""
    if not (PEER_SCRIPTS / "setup.sh").exists():
        raise BenchError(f"the peer's scripts are not at {PEER_SCRIPTS}")
    sqlite_path = PEER_ROOT / f"db-{size_label(cases)}.sqlite3"
    env = {**os.environ, "PEER_ROOT": str(PEER_ROOT), "PEER_SITE": str(PEER_ROOT / "site"),
           "SQLITE_PATH": str(sqlite_path), "DB": "sqlite"}
    python = PEER_ROOT / "venv" / "bin" / "python"
    t0 = time.perf_counter()
    subprocess.run(["bash", str(PEER_SCRIPTS / "setup.sh")], env=env, check=True,  # noqa: S607
                   stdout=subprocess.DEVNULL)
    setup_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    subprocess.run([str(python), str(PEER_SCRIPTS / "seed.py"), "--target", str(cases),
                    "--batch", "5000"], env=env, check=True, stdout=subprocess.DEVNULL)
    seed_s = time.perf_counter() - t1
    result = subprocess.run(  # noqa: S603
        [str(python), str(Path(__file__).with_name("peer_desk.py")), "--samples", str(samples),
         "--budget", str(budget)], env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"the peer's measurement failed:\n{result.stderr[-3000:]}")
    found = dict(json.loads(result.stdout.strip().splitlines()[-1]))
    found.update(setup_s=round(setup_s, 1), seed_s=round(seed_s, 1), cases=cases,
                 measured_at=datetime.now(UTC).isoformat(timespec="seconds"))
    peer_result_path(cases).write_text(json.dumps(found), encoding="utf-8")
    return found


def peer_result_path(cases: int) -> Path:
    return PEER_ROOT / f"result-{size_label(cases)}.json"


def main(argv: list[str] | None = None) -> int:
    from bench import desk_print  # imports this module's constants: not at the top

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rss-cases", type=int, default=100_000,
                        help="The smaller size the worker's memory is compared with (0: none).")
    parser.add_argument("--samples", type=int, default=40,
                        help="Requests per page (fewer if --budget runs out first; >= 3).")
    parser.add_argument("--budget", type=float, default=40.0,
                        help="Seconds per page at most, once 3 requests were timed.")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--peer-cases", type=int, default=0,
                        help="Tickets for django-helpdesk (default: --cases, at most "
                        "100,000: its pages grow linearly with the tickets, ~1 s for its list "
                        "and ~2.4 s for its dashboard at 100,000 on an idle machine, so at a "
                        "million one pass over them takes the better part of an hour).")
    parser.add_argument("--reuse-peer", action="store_true",
                        help="Print the peer's last figures at this size (var/peer-dh) "
                        "instead of measuring it again (minutes at a million tickets).")
    parser.add_argument("--pg-name", default="",
                        help="The PostgreSQL database to seed and measure, {size} standing for "
                        "the size (default casedesk_bench{size}, e.g. casedesk_bench1m).")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.samples, args.budget), ensure_ascii=False))
        return 0
    if args.cases < 100 or args.samples < 3 or args.budget <= 0:
        parser.error("--cases must be at least 100, --samples at least 3, --budget positive")
    vendors = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    sizes = sorted({args.cases, *([args.rss_cases] if 0 < args.rss_cases < args.cases else [])})
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-desk.jsonl"
    peer_found: dict[str, Any] | None = None
    peer_cases = args.peer_cases or min(args.cases, PEER_MAX_DEFAULT)
    if not args.no_peer and args.reuse_peer and peer_result_path(peer_cases).exists():
        peer_found = json.loads(peer_result_path(peer_cases).read_text(encoding="utf-8"))
        print(f"-- django-helpdesk 2.6.1: its figures at {peer_cases:,} tickets from "
              f"{peer_found.get('measured_at')} ({peer_result_path(peer_cases).name})")
    elif not args.no_peer:
        try:
            print(f"-- django-helpdesk 2.6.1: {peer_cases:,} tickets", flush=True)
            peer_found = peer(peer_cases, args.samples, args.budget)
        except (BenchError, OSError, subprocess.SubprocessError, ValueError) as exc:
            print(f"   peer run failed: {exc}", file=sys.stderr)
    failed = False
    everything: dict[str, Any] = {}
    for vendor in vendors:
        results: dict[int, dict[str, Any]] = {}
        summaries: dict[int, Any] = {}
        for cases in sizes:
            try:
                db, summary, _fresh = prepared(vendor, cases, args.pg_name)
                summaries[cases] = summary
                results[cases] = run_measure(db, summary, args.samples, args.budget)
            except (BenchError, OSError, subprocess.SubprocessError, ValueError) as exc:
                print(f"   {vendor} at {cases:,} failed: {exc}", file=sys.stderr)
                failed = True
        if results:
            desk_print.print_db(vendor, results, summaries,
                                peer_found["rows"] if peer_found else None,
                                peer_cases if peer_found else None)
            everything[vendor] = {"results": results, "seeds": summaries}
    if peer_found:
        desk_print.print_peer(peer_found)
        everything["peer"] = peer_found
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(everything, ensure_ascii=False, default=str) + "\n")
    print(f"\nraw results: {out.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
