"""The system under soak: casedesk's real processes on loopback over a fresh database.

PostgreSQL: two `casedesk web` (one gunicorn process each, so "a web process" is one
PostgreSQL client we can name), two `casedesk worker` and one `casedesk mail-in`, each with
its own PGAPPNAME (libpq's application_name), which is how the database connection of one
web process is found in pg_stat_activity and cut. SQLite: one `casedesk serve`.

Outgoing mail goes over SMTP to the sink (soak.sink) in the orchestrator's process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.target import REPO, BenchError, Target, free_port

SECRET_KEY = "soak-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
# Short, so that a killed worker's job is taken over (and the audit can wait for it)
# within the soak's bounded drain; the heartbeat renews every quarter of it.
LEASE_SECONDS = 8
DEMO_PASSWORD = "demo-customer-passphrase"  # noqa: S105 - casedesk demo's own


class SoakError(BenchError):
    """The soak cannot go on (a process did not start, the database is unreachable)."""


@dataclass
class Process:
    name: str
    command: list[str]
    app_name: str
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    restarts: int = 0

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class Deployment(Target):
    """A Target (fresh database and data directory) plus the processes of one topology:
    "postgres" (the roles apart) or "sqlite" (`casedesk serve`)."""

    def __init__(self, topology: str, sink_port: int) -> None:
        super().__init__("postgres" if topology == "postgres" else "sqlite")
        self.pg_name = f"cd_soak_{os.getpid()}"
        self.topology = topology
        self.sink_port = sink_port
        self.smtp_port = free_port()
        self.web_ports: list[int] = []
        self.processes: dict[str, Process] = {}

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update({
            "CASEDESK_SECRET_KEY": SECRET_KEY,
            "CASEDESK_EMAIL_URL": f"smtp://127.0.0.1:{self.sink_port}?timeout=10",
            "CASEDESK_SMTP_LISTEN": f"127.0.0.1:{self.smtp_port}",
            "CASEDESK_BASE_URL": "http://127.0.0.1",
            "CASEDESK_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "CASEDESK_MAIL_POLL_SECONDS": "1",
            # 16 clients through two per-process caches: the soak is not about rate limits.
            "CASEDESK_API_RATE_LIMIT": "1000000",
            "CASEDESK_LOG_LEVEL": "WARNING",
        })
        return env

    # ------------------------------------------------------------ set-up

    def prepare(self, api_contacts: list[str]) -> dict[str, str]:
        """Database, demo data, one API token per contact (email -> secret)."""
        self.create()
        self.run_casedesk("demo", timeout=600)
        tokens = {}
        for email in api_contacts:
            tokens[email] = self.run_casedesk(
                "token", "create", "--email", email, "--name", "soak"
            ).strip()
        return tokens

    # ------------------------------------------------------------ processes

    def plan(self, web_threads: int) -> None:
        py = [sys.executable, "-m", "casedesk"]
        if self.topology == "postgres":
            for n in (1, 2):
                port = free_port()
                self.web_ports.append(port)
                self.add(f"web-{n}", [*py, "web", "--bind", f"127.0.0.1:{port}",
                                      "--workers", "1", "--threads", str(web_threads)])
            for n in (1, 2):
                self.add(f"worker-{n}", [*py, "worker"])
            self.add("mail-in", [*py, "mail-in"])
        else:
            port = free_port()
            self.web_ports.append(port)
            self.add("serve", [*py, "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "2", "--threads", str(web_threads)])

    def add(self, name: str, command: list[str]) -> None:
        self.processes[name] = Process(name, command, f"casedesk-soak-{name}")

    def start_process(self, name: str) -> None:
        proc = self.processes[name]
        env = self.env()
        env["PGAPPNAME"] = proc.app_name
        if proc.log is None:
            proc.log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115
        proc.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            proc.command, cwd=REPO, env=env, stdout=proc.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self, extra_args: list[str] | None = None) -> None:
        for name in self.processes:
            self.start_process(name)
        ports = [*self.web_ports, self.smtp_port]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            for proc in self.processes.values():
                if not proc.alive():
                    raise SoakError(f"{proc.name} exited at start:\n{self.tail(proc.name)}")
            if all(listening(p) for p in ports):
                return
            time.sleep(0.3)
        raise SoakError("casedesk did not listen within 90 s:\n"
                        + "\n".join(self.tail(n) for n in self.processes))

    def kill(self, name: str) -> int:
        """SIGKILL a process (no chance to finish its job or drop its lease)."""
        proc = self.processes[name]
        assert proc.popen is not None
        pid = proc.popen.pid
        os.kill(pid, signal.SIGKILL)
        proc.popen.wait()
        return pid

    def restart(self, name: str) -> None:
        self.processes[name].restarts += 1
        self.start_process(name)

    def gunicorn_workers(self) -> list[int]:
        """The pids of the gunicorn worker processes (children of an arbiter)."""
        found = []
        for proc in self.processes.values():
            if proc.popen is None:
                continue
            for pid in descendants(proc.popen.pid):
                parent = parent_pid(pid)
                if b"gunicorn" in _cmdline(pid) and parent and b"gunicorn" in _cmdline(parent):
                    found.append(pid)
        return found

    def cut_database(self, name: str) -> int:
        """Terminate every PostgreSQL backend of one process (by its application_name)."""
        rows = self.query(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE application_name = '{self.processes[name].app_name}' "  # noqa: S608
            f"AND datname = '{self.pg_name}'"
        )
        return int(rows[0][0])

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.alive():
                assert proc.popen is not None
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            if proc.popen is None:
                continue
            try:
                proc.popen.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
            if proc.log is not None:
                proc.log.close()
                proc.log = None

    def tail(self, name: str, lines: int = 25) -> str:
        try:
            text = (self.data_dir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return f"--- {name}\n" + "\n".join(text.splitlines()[-lines:])

    def logged_errors(self) -> dict[str, int]:
        """Tracebacks and ERROR lines per process log (a 500's traceback lands here)."""
        out = {}
        for name in self.processes:
            try:
                text = (self.data_dir / f"{name}.log").read_text(errors="replace")
            except OSError:
                continue
            out[name] = text.count("Traceback (most recent call last)")
        return out


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def parent_pid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rpartition(")")[2].split()[1])


def descendants(pid: int) -> list[int]:
    pids = [pid]
    for p in pids:
        try:
            pids.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except OSError:
            pass
    return pids
