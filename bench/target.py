"""The system under test: a database of its own and a real `casedesk serve` over it.

Each run gets a fresh data directory (uploads, outbox, the SQLite file) and, on
PostgreSQL, a database of its own that is dropped afterwards. The orchestrator reads row
counts straight from the database (sqlite3 / psycopg) so that it never has to configure
Django for two databases in one process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SERVE_COMMAND = REPO / "casedesk" / "core" / "management" / "commands" / "serve.py"


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def run_child(module: str, target: Any, *args: str, timeout: float = 3600) -> dict[str, Any]:
    """Run `python -m module args...` in the target's environment and return the JSON
    object its last line of output prints (a phase of a benchmark, in its own process)."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module, *args], cwd=REPO, env=target.env(),
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"{module} {args[0]} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def databases(choice: str) -> list[str]:
    """--db sqlite|postgres|both as the list of databases to measure."""
    return ["sqlite", "postgres"] if choice == "both" else [choice]


def results_file(name: str) -> Path:
    """bench/results/<UTC time>-<name>.jsonl, the folder made if needed."""
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    return results / f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{name}.jsonl"


def run_each(
    name: str, dbs: list[str], measure: Callable[[str], dict[str, Any]],
    report: Callable[[list[dict[str, Any]]], None], out: Path | None = None,
) -> list[dict[str, Any]]:
    """`measure` each database in turn; a database that fails is said on stderr and
    skipped (the others still run). Each row is appended to `out` as {name: row}, as it
    comes, then `report` prints them all."""
    rows = []
    for vendor in dbs:
        try:
            row = measure(vendor)
        except (BenchError, OSError, subprocess.SubprocessError) as exc:
            print(f"{name} on {vendor}: {exc}", file=sys.stderr)
            continue
        rows.append(row)
        if out is not None:
            with open(out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({name: row}) + "\n")
    if rows:
        report(rows)
    return rows


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Target:
    """One database (sqlite or postgres) with its data directory and, once started, server."""

    def __init__(self, vendor: str, *, keep: bool = False) -> None:
        if vendor not in ("sqlite", "postgres"):
            raise BenchError(f"unknown database {vendor!r}")
        self.vendor = vendor
        self.keep = keep
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"casedesk-bench-{vendor}-"))
        self.pg_name = f"casedesk_bench_{os.getpid()}"
        self.port = 0
        self.server: subprocess.Popen[bytes] | None = None
        self.server_log: IO[bytes] | None = None
        self.server_command: list[str] = []

    # ------------------------------------------------------------ environment

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:5432/{self.pg_name}"

    def env(self) -> dict[str, str]:
        """The environment for casedesk's processes: ours, minus any CASEDESK_* of the shell."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASEDESK_")}
        env.update({
            "CASEDESK_DATA_DIR": str(self.data_dir),
            "CASEDESK_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "casedesk.settings",
            "PYTHONPATH": str(REPO),
        })
        if self.port:
            env["CASEDESK_BASE_URL"] = f"http://127.0.0.1:{self.port}"
        if self.vendor == "postgres":
            env["CASEDESK_DATABASE_URL"] = self.database_url
        return env

    def run_casedesk(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "casedesk", *args], cwd=REPO, env=self.env(),
            capture_output=True, text=True, timeout=timeout, check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"casedesk {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    # ------------------------------------------------------------ database

    def create(self) -> None:
        if self.vendor == "postgres":
            import psycopg

            try:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
                    conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            except psycopg.OperationalError as exc:
                raise BenchError(
                    f"PostgreSQL is not reachable at 127.0.0.1:5432 as postgres: {exc}"
                ) from None
        self.run_casedesk("migrate", "--noinput", "-v", "0")

    def seed(self, cases: int) -> dict[str, Any]:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.seed", "--cases", str(cases)], cwd=REPO,
            env=self.env(), capture_output=True, text=True, timeout=900, check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"seeding failed:\n{result.stderr[-3000:]}")
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.vendor == "sqlite":
            path = self.data_dir / "casedesk.sqlite3"
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as pg:
            return list(pg.execute(sql).fetchall())  # type: ignore[arg-type]

    def count_cases(self) -> int:
        return int(self.query("SELECT count(*) FROM tickets_ticket")[0][0])

    def mail_backlog(self) -> int:
        """Mail queued but not yet delivered by the background worker."""
        return int(self.query(
            "SELECT count(*) FROM mail_outboundmail WHERE status IN ('queued', 'sending')"
        )[0][0])

    def size_mb(self) -> float:
        if self.vendor == "sqlite":
            total = sum(p.stat().st_size for p in self.data_dir.glob("casedesk.sqlite3*"))
            return round(total / 1e6, 1)
        return round(int(self.query(
            f"SELECT pg_database_size('{self.pg_name}')"  # noqa: S608 - our own name
        )[0][0]) / 1e6, 1)

    # ------------------------------------------------------------ server

    def start(self, extra_args: list[str] | None = None) -> None:
        """`casedesk serve` on a free port of 127.0.0.1; waits until it answers."""
        self.port = free_port()
        if SERVE_COMMAND.exists():
            command = [sys.executable, "-m", "casedesk", "serve",
                       "--host", "127.0.0.1", "--port", str(self.port), *(extra_args or [])]
        else:  # before `casedesk serve` existed: gunicorn alone, 2 sync workers
            command = [sys.executable, "-m", "gunicorn", "casedesk.wsgi:application",
                       "--bind", f"127.0.0.1:{self.port}", "--workers", "2"]
        self.server_command = command
        self.server_log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115
        # A session of its own: the terminal's Ctrl-C reaches only us, and we stop the
        # server ourselves (serve then stops gunicorn and the worker it started).
        self.server = subprocess.Popen(  # noqa: S603
            command, cwd=REPO, env=self.env(), stdout=self.server_log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise BenchError(f"the server exited at start:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"the server did not listen within 60 s:\n{self.log_tail()}")

    def server_pids(self) -> list[int]:
        """The server process and all its descendants (gunicorn arbiter, workers, worker)."""
        if self.server is None:
            return []
        pids = [self.server.pid]
        for pid in pids:
            children = Path(f"/proc/{pid}/task/{pid}/children")
            try:
                pids.extend(int(p) for p in children.read_text().split())
            except OSError:
                pass
        return pids

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by the web processes and by the background worker.

        Unlike latency, this does not move when other programs share the machine, so it
        is the figure to compare between runs on a busy host.
        """
        tick = os.sysconf("SC_CLK_TCK")
        used = {"web": 0.0, "worker": 0.0}
        for pid in self.server_pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            if b"gunicorn" in cmdline:
                used["web"] += seconds
            elif b" worker" in cmdline:
                used["worker"] += seconds
        return used

    def peak_rss_mb(self) -> float:
        """The largest peak resident size among the server's processes."""
        peak = 0
        for pid in self.server_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
        return round(peak / 1024, 1)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.data_dir / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.server is None:
            return
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGINT)
            try:
                self.server.wait(timeout=25)
            except subprocess.TimeoutExpired:
                # serve's children die with it (they asked the kernel for SIGTERM then).
                self.server.kill()
                self.server.wait()
        if self.server_log is not None:
            self.server_log.close()
        self.server = None

    def cleanup(self) -> None:
        self.stop()
        if self.vendor == "postgres" and not self.keep:
            import psycopg

            try:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            except psycopg.Error as exc:
                print(f"warning: could not drop database {self.pg_name}: {exc}", file=sys.stderr)
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)
