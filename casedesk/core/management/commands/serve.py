"""`casedesk serve`: the web app under gunicorn, the background worker and the mail
listener, together.

The embedded, zero-configuration deployment: one command runs every role casedesk needs on
one machine. The children are started in their own session, so a Ctrl-C in the terminal
reaches only this process, which then stops each child exactly once (SIGTERM: gunicorn
finishes the requests in flight, the worker the job in hand) and exits 0. If a child dies
on its own, the others are stopped too and the command exits non-zero: a half-running
helpdesk (a portal whose mail never leaves) is worse than a stopped one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from argparse import ArgumentParser, ArgumentTypeError
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from casedesk.mail.backends import backend_from_url
from casedesk.mail.imap import configured_mailboxes
from casedesk.mail.listener import Endpoint, configured_endpoints

# Sync workers, two per core plus one: on SQLite every write holds the one database write
# lock, so a request is CPU-bound Python plus a short wait on that lock. Processes (not
# threads) use both cores without the GIL in the way, and a fifth process keeps the cores
# busy while another waits on the lock or the disk. See README.md, "casedesk serve".
DEFAULT_WORKERS = 2 * (os.cpu_count() or 1) + 1
# gunicorn waits this long for requests in flight after SIGTERM; we wait a little longer.
GRACEFUL_SECONDS = 10
STOP_SECONDS = GRACEFUL_SECONDS + 5
READY_SECONDS = 60
POLL_SECONDS = 0.2
ANY_ADDRESS = {"0.0.0.0", "::", ""}  # noqa: S104 - names the wildcard, binds nothing


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if number < 1:
        raise ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def port_number(value: str) -> int:
    number = positive_int(value)
    if number > 65535:
        raise ArgumentTypeError(f"must be at most 65535, got {number}")
    return number


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def connect_host(host: str) -> str:
    """Where to knock to see whether the server is up (the wildcard is not an address)."""
    if host in ANY_ADDRESS:
        return "::1" if ":" in host else "127.0.0.1"
    return host


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    # The same option gunicorn sets, so a port in TIME_WAIT from a previous run is usable.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as exc:
        raise CommandError(
            f"Cannot listen on {url_host(host)}:{port}: {exc.strerror or exc}. Is casedesk "
            "(or another server) already running there? Choose another port with --port."
        ) from None
    finally:
        probe.close()


def check_mail_endpoints() -> list[Endpoint]:
    """The mail listener's addresses, valid and free, or a message saying what to change."""
    try:
        endpoints = configured_endpoints()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None
    for endpoint in endpoints:
        family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
        probe = socket.socket(family, socket.SOCK_STREAM)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((endpoint.host, endpoint.port))
        except OSError as exc:
            setting = f"CASEDESK_{endpoint.protocol.upper()}_LISTEN"
            raise CommandError(
                f"Cannot listen for mail on {endpoint}: {exc.strerror or exc}. Is a mail "
                f"server already running there? Set {setting} to another host:port, or "
                "use --no-mail-in when mail comes in another way."
            ) from None
        finally:
            probe.close()
    return endpoints


def is_listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((connect_host(host), port), timeout=0.5):
            return True
    except OSError:
        return False


def check_migrated() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    finally:
        # The children open their own connections; this process keeps none open.
        connections.close_all()
    if pending:
        raise CommandError(
            f"The database is not up to date ({len(pending)} migration(s) to apply). "
            "Run `casedesk migrate` first."
        )


def check_email_url() -> None:
    """A bad CASEDESK_EMAIL_URL would otherwise only show as failed mail, one per case (and
    a bad CASEDESK_IMAP_URL as a failing job in the worker's log)."""
    try:
        backend_from_url(settings.CASEDESK_EMAIL_URL)
        configured_mailboxes()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def die_with_parent() -> None:
    """Run in each child before exec: if `casedesk serve` itself is killed outright (no
    chance to stop its children), Linux sends the child SIGTERM instead of orphaning it."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def metrics_environment(env: dict[str, str]) -> dict[str, str]:
    """Points the web processes at a directory of their own for Prometheus samples
    (casedesk.ops.metrics), made fresh for this run unless the operator chose one, which is
    emptied: samples of a previous run must not be added to this one's."""
    chosen = env.get("PROMETHEUS_MULTIPROC_DIR")
    if chosen:
        directory = Path(chosen)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        env.pop("CASEDESK_METRICS_DIR_OWNED", None)
    else:
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="casedesk-metrics-")
        env["CASEDESK_METRICS_DIR_OWNED"] = "1"
    return env


def gunicorn_command(binds: list[str], *, workers: int, threads: int,
                     access_log: bool) -> list[str]:
    """How `casedesk serve` and `casedesk web` run the web app under gunicorn."""
    command = [sys.executable, "-m", "gunicorn", "casedesk.wsgi:application"]
    for bind in binds:
        command += ["--bind", bind]
    command += [
        "--workers", str(workers),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--threads", str(threads),
        "--graceful-timeout", str(GRACEFUL_SECONDS),
        # Loads the app once before forking: workers start fast, and a broken
        # configuration stops here with one clear error instead of in every worker.
        "--preload",
        # gunicorn's control socket lives at one path per user: two casedesk instances
        # on one machine would fight over it, and casedesk does not use it.
        "--no-control-socket",
        "--error-logfile", "-",
        # Hooks that keep the Prometheus request metrics right across worker restarts.
        "--config", "python:casedesk.ops.gunicorn_conf",
    ]
    if access_log:
        command += ["--access-logfile", "-"]
    return command


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    def alive(self) -> bool:
        return self.process.poll() is None


class Command(BaseCommand):
    help = (
        "Run casedesk: the web app under gunicorn, the background worker and the mail "
        "listener. Ctrl-C stops everything."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=port_number, default=8000, help="Port to listen on.")
        parser.add_argument(
            "--workers", type=positive_int, default=DEFAULT_WORKERS,
            help=f"Web server processes (default {DEFAULT_WORKERS}: two per core plus one).",
        )
        parser.add_argument(
            "--threads", type=positive_int, default=1,
            help="Threads per web process (more than 1 switches gunicorn to gthread workers).",
        )
        parser.add_argument(
            "--access-log", action="store_true", help="Log every request to standard output."
        )
        parser.add_argument(
            "--no-worker", action="store_true",
            help="Run the web app only (when `casedesk worker` runs elsewhere).",
        )
        parser.add_argument(
            "--no-mail-in", action="store_true",
            help="Do not receive mail (when `casedesk mail-in` runs elsewhere, or mail "
                 "comes in by IMAP or import only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        url = f"http://{url_host(host)}:{port}"
        check_port_free(host, port)
        check_migrated()
        check_email_url()
        mail_endpoints = [] if options["no_mail_in"] else check_mail_endpoints()

        env = self.child_environment(host, url)
        if mail_endpoints and not env.get("CASEDESK_READY_MAIL_LISTENER"):
            # /readyz checks the listener this command runs.
            smtp = mail_endpoints[0]
            env["CASEDESK_READY_MAIL_LISTENER"] = (
                f"{url_host(connect_host(smtp.host))}:{smtp.port}"
            )
        commands = {"web server (gunicorn)": self.gunicorn_command(host, port, options)}
        metrics_environment(env)
        if not options["no_worker"]:
            commands["background worker"] = [
                sys.executable, "-m", "casedesk", "worker", "--no-startup-delay",
            ]
        if mail_endpoints:
            commands["mail listener"] = [sys.executable, "-m", "casedesk", "mail-in"]

        self.stop_signal: int | None = None
        previous = {
            signum: signal.signal(signum, self.request_stop)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        children: list[Child] = []
        try:
            for name, command in commands.items():
                children.append(Child(name, subprocess.Popen(  # noqa: S603 - our own argv
                    command, env=env, start_new_session=True, preexec_fn=die_with_parent,
                )))
            died = self.wait_until_ready(children, host, port, mail_endpoints)
            if died is None and self.stop_signal is None:
                self.announce(url, env, options, workers=not options["no_worker"],
                              mail_endpoints=mail_endpoints)
                died = self.watch(children)
        finally:
            codes = self.stop(children)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if died is not None:
            raise CommandError(
                f"The {died.name} stopped unexpectedly ({describe_exit(codes[died.name])}); "
                "stopped the rest of casedesk. See the messages above.",
                returncode=1,
            )
        self.stdout.write("casedesk stopped.")

    def child_environment(self, host: str, url: str) -> dict[str, str]:
        env = dict(os.environ)
        # Children resolve a relative data directory against their own working directory;
        # an absolute path makes sure all of them use ours.
        env["CASEDESK_DATA_DIR"] = str(settings.DATA_DIR)
        if not env.get("CASEDESK_BASE_URL"):
            env["CASEDESK_BASE_URL"] = url
        if (
            not env.get("CASEDESK_ALLOWED_HOSTS")
            and host not in ANY_ADDRESS
            and url_host(host) not in settings.ALLOWED_HOSTS
        ):
            env["CASEDESK_ALLOWED_HOSTS"] = ",".join([*settings.ALLOWED_HOSTS, url_host(host)])
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def gunicorn_command(self, host: str, port: int, options: dict[str, Any]) -> list[str]:
        return gunicorn_command([f"{url_host(host)}:{port}"], workers=options["workers"],
                                threads=options["threads"], access_log=options["access_log"])

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signal = signum

    def wait_until_ready(self, children: list[Child], host: str, port: int,
                         mail_endpoints: list[Endpoint]) -> Child | None:
        """Wait until the web server (and the mail listener) accept connections. Returns a
        child that died."""
        deadline = time.monotonic() + READY_SECONDS
        while self.stop_signal is None:
            for child in children:
                if not child.alive():
                    return child
            if is_listening(host, port) and all(
                is_listening(e.host, e.port) for e in mail_endpoints
            ):
                return None
            if time.monotonic() > deadline:
                mail = "".join(f" and mail on {e}" for e in mail_endpoints)
                raise CommandError(
                    f"casedesk did not start listening (web on port {port}{mail}) within "
                    f"{READY_SECONDS} seconds; stopped. See the messages above."
                )
            time.sleep(POLL_SECONDS)
        return None

    def announce(self, url: str, env: dict[str, str], options: dict[str, Any], *,
                 workers: bool, mail_endpoints: list[Endpoint]) -> None:
        roles = f"{options['workers']} web process(es)"
        if workers:
            roles += " and the background worker"
        if mail_endpoints:
            roles += ", receiving mail on " + ", ".join(str(e) for e in mail_endpoints)
        self.stdout.write(self.style.SUCCESS(f"casedesk is running at {url}/"))
        self.stdout.write(f"  {roles}; data in {settings.DATA_DIR}")
        self.stdout.write(f"  links in mail start with {env['CASEDESK_BASE_URL']}")
        if options["host"] in ANY_ADDRESS and not os.environ.get("CASEDESK_BASE_URL"):
            self.stderr.write(
                "  Listening on every address: set CASEDESK_BASE_URL to the address people "
                "use, or links in mail will not work."
            )
        self.stdout.write("Press Ctrl-C to stop.")
        self.stdout.flush()

    def watch(self, children: list[Child]) -> Child | None:
        """Sleep until asked to stop (returns None) or until a child dies (returns it)."""
        while self.stop_signal is None:
            for child in children:
                if not child.alive():
                    return child
            time.sleep(POLL_SECONDS)
        return None

    def stop(self, children: list[Child]) -> dict[str, int | None]:
        """Stop every child: one SIGTERM each, then SIGKILL for any still there after
        STOP_SECONDS. Returns each child's exit code."""
        for child in children:
            if child.alive():
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(
                    f"The {child.name} did not stop within {STOP_SECONDS} seconds; killed it."
                )
                child.process.kill()
                child.process.wait()
        return {child.name: child.process.returncode for child in children}
