"""`casedesk serve` as an operator runs it: a real gunicorn and a real background worker in
child processes, a case submitted through the real HTTP form, its acknowledgement delivered
to the outbox by the worker, and Ctrl-C (or SIGTERM) stopping every process.

Each test gets its own data directory; on PostgreSQL (CASEDESK_DATABASE_URL set) its own
database as well, created and dropped around the test.
"""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import dj_database_url
import psycopg
import pytest

CASEDESK = str(Path(sys.executable).with_name("casedesk"))
START_SECONDS = 60

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds child processes through /proc"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a fresh, migrated casedesk installation."""
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"CASEDESK_BASE_URL", "CASEDESK_EMAIL_URL", "CASEDESK_ALLOWED_HOSTS"}
    }
    env["CASEDESK_DATA_DIR"] = str(tmp_path / "data")
    # The mail listener serve starts needs a port of its own, like the web server.
    env["CASEDESK_SMTP_LISTEN"] = f"127.0.0.1:{free_port()}"
    database_url = env.get("CASEDESK_DATABASE_URL", "")
    admin: psycopg.Connection | None = None
    name = f"casedesk_serve_{os.getpid()}"
    if database_url.startswith(("postgres://", "postgresql://")):
        config = dj_database_url.parse(database_url)
        admin = psycopg.connect(
            host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
            password=config["PASSWORD"], dbname="postgres", autocommit=True,
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        env["CASEDESK_DATABASE_URL"] = urllib.parse.urlsplit(database_url)._replace(
            path=f"/{name}"
        ).geturl()
    try:
        subprocess.run([CASEDESK, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        yield env
    finally:
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


class Server:
    """`casedesk serve` in a child process, its output collected as it comes."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [CASEDESK, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, seconds: float = START_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never printed {text!r}; output:\n{self.output}")
            time.sleep(0.05)

    def wait(self, seconds: float = 30) -> int:
        code = self.process.wait(timeout=seconds)
        self.reader.join(timeout=5)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:  # a failed test leaves nothing running
        for pid in descendants(server.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        server.stop()


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) for every process."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(stat.parent.name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> list[int]:
    table = process_table()
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [p for p, (ppid, _) in table.items() if ppid == parent]
        found += children
        todo += children
    return found


def running(pids: list[int]) -> list[int]:
    table = process_table()
    # A zombie has finished; it only waits for its parent to read its exit code.
    return [pid for pid in pids if pid in table and table[pid][1] != "Z"]


def wait_for_processes(server: Server, count: int) -> list[int]:
    deadline = time.monotonic() + START_SECONDS
    while len(found := descendants(server.process.pid)) < count:
        assert time.monotonic() < deadline, f"only {found} started; output:\n{server.output}"
        time.sleep(0.05)
    return found


def outbox(env: dict[str, str]) -> list[EmailMessage]:
    folder = Path(env["CASEDESK_DATA_DIR"]) / "outbox"
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


def submit_through_the_form(base: str, subject: str) -> str:
    """GET the form, then POST it with its CSRF token, like a browser. Returns the HTML of
    the page the POST leads to."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = browser.open(f"{base}/submit/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    category = re.search(r'<select name="category"[^>]*>.*?<option value="(\d+)"', form, re.S)
    assert token and category, form
    data = urllib.parse.urlencode({
        "csrfmiddlewaretoken": token[1],
        "full_name": "Noor Haddad",
        "email": "noor@gulfnet.example",
        "organization_name": "Gulfnet Telecom",
        "phone": "+971 50 555 0101",
        "subject": subject,
        "category": category[1],
        "priority": "1",
        "description": "Since 09:10 the second resolver answers without filtering.",
    }).encode()
    request = urllib.request.Request(f"{base}/submit/", data=data, headers={"Referer": base})
    response = browser.open(request, timeout=30)
    assert response.status == 200
    assert "/submitted/" in response.url
    return response.read().decode()


def test_serve_runs_the_site_and_the_worker_and_ctrl_c_stops_everything(
    site: dict[str, str], servers: list[Server]
) -> None:
    # Given `casedesk serve` with two web processes, running
    server = Server(site, "--workers", "2")
    servers.append(server)
    server.wait_for(f"casedesk is running at {server.url}/")
    # gunicorn, its two workers, and the background worker
    processes = wait_for_processes(server, 4)

    # When a visitor opens the portal and submits a case through the form
    home = urllib.request.urlopen(f"{server.url}/", timeout=10)
    assert home.status == 200
    assert "Submit a ticket" in home.read().decode()
    confirmation = submit_through_the_form(server.url, "Resolver 2 lets adult sites through")

    # Then the worker delivers the acknowledgement (and the invitation) to the outbox,
    # with links to the address serve listens on
    deadline = time.monotonic() + 15
    while len(messages := outbox(site)) < 2:
        assert time.monotonic() < deadline, f"mail not delivered; output:\n{server.output}"
        time.sleep(0.1)
    ack = next(m for m in messages if m["Subject"].startswith("[Case #"))
    case_id = re.fullmatch(r"\[Case #(\d+)\] Resolver 2 lets adult sites through",
                           ack["Subject"])
    assert case_id, ack["Subject"]
    assert case_id[1] in confirmation
    assert ack["To"] == "noor@gulfnet.example"
    text = ack.get_body(("plain",))
    assert text is not None
    assert f"{server.url}/cases/{case_id[1]}/" in text.get_content()

    # When the operator presses Ctrl-C
    server.process.send_signal(signal.SIGINT)

    # Then serve exits 0 and no process of it is left
    assert server.wait() == 0, server.output
    assert running(processes) == []
    assert "casedesk stopped." in server.output


def test_sigterm_stops_everything_too(site: dict[str, str], servers: list[Server]) -> None:
    # Given serve running (as under systemd or a container runtime)
    server = Server(site, "--workers", "1")
    servers.append(server)
    server.wait_for("Press Ctrl-C to stop.")
    processes = wait_for_processes(server, 3)

    # When it is sent SIGTERM
    server.process.send_signal(signal.SIGTERM)

    # Then it exits 0 with every child gone
    assert server.wait() == 0, server.output
    assert running(processes) == []


def test_when_a_child_dies_the_rest_is_stopped_and_serve_fails_loudly(
    site: dict[str, str], servers: list[Server]
) -> None:
    # Given serve running
    server = Server(site, "--workers", "1")
    servers.append(server)
    server.wait_for("Press Ctrl-C to stop.")
    processes = wait_for_processes(server, 3)
    table = process_table()
    worker = next(
        pid for pid in processes
        if "casedesk\0worker" in Path(f"/proc/{pid}/cmdline").read_text()
        and table[pid][0] == server.process.pid
    )

    # When the background worker is killed from outside
    os.kill(worker, signal.SIGKILL)

    # Then serve stops the web server too and exits non-zero, saying what happened
    assert server.wait() == 1, server.output
    assert "The background worker stopped unexpectedly (killed by SIGKILL)" in server.output
    assert running(processes) == []


def test_a_port_in_use_is_refused_with_a_clear_message(
    site: dict[str, str], servers: list[Server]
) -> None:
    # Given something already listening on the port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # When serve is started there
        result = subprocess.run(
            [CASEDESK, "serve", "--port", str(port)], env=site, capture_output=True,
            text=True, timeout=60,
        )

    # Then it fails at once, naming the problem and the way out
    assert result.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr


def test_an_unmigrated_database_or_a_bad_mail_url_is_refused_before_starting(
    site: dict[str, str], tmp_path: Path
) -> None:
    # Given a data directory never migrated, and (separately) a mail URL with a typo
    fresh = {**site, "CASEDESK_DATA_DIR": str(tmp_path / "fresh")}
    fresh.pop("CASEDESK_DATABASE_URL", None)
    typo = {**site, "CASEDESK_EMAIL_URL": "smtp://mail.example.net?ssl=1"}

    for env, message in [
        (fresh, "Run `casedesk migrate` first."),
        (typo, "CASEDESK_EMAIL_URL has unknown option(s) ssl"),
    ]:
        # When serve is started
        result = subprocess.run(
            [CASEDESK, "serve", "--port", str(free_port())], env=env, capture_output=True,
            text=True, timeout=60,
        )

        # Then it refuses with a message saying what to do, and starts nothing
        assert result.returncode == 1
        assert message in result.stderr
        assert "is running" not in result.stdout
