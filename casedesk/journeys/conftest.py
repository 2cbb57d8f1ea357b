"""Fixtures for the browser journeys.

The server under test is the real product: `casedesk migrate`, `casedesk demo` and
`casedesk serve` run as separate processes on a fresh data directory, as `make run` does.
One Chromium serves the whole session; every test gets a fresh context (no cookies shared
between people). Mail is read from the file outbox the worker delivers into; every page
visited is saved as a full-page screenshot under `test-output/journeys/<test name>/` for
people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from casedesk.journeys.support import Pages, Person, Shots, Site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_ROOT = REPO_ROOT / "test-output" / "journeys"

CHROMIUM = "/usr/bin/chromium"
# No sandbox (CI containers run as root); no GPU; and nothing that phones home, so a run
# needs no network beyond 127.0.0.1.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]

SECRET_KEY = "journeys-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz"
JOURNEY_DATABASE = "casedesk_journeys"
STARTUP_SECONDS = 30.0
STOP_SECONDS = 15.0

# The console script next to this interpreter (the venv's), as an operator would type it.
_script = Path(sys.executable).with_name("casedesk")
CASEDESK = [str(_script)] if _script.exists() else [sys.executable, "-m", "casedesk"]


def demo_cast() -> tuple[Person, str, str]:
    """A plain agent (not an admin) and a Premium organization from `casedesk demo`.

    Read from the demo command itself, so the journeys follow it when its cast changes.
    """
    from casedesk.core.management.commands import demo

    agent = next(p for p in demo.PEOPLE if p.role == "agent" and not p.admin)
    org = next(o for o in demo.ORGANIZATIONS if o.plan == "Premium")
    return Person(agent.email, agent.password, agent.full_name), org.name, org.domains.split()[0]


# -- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, base_url: str, database_url: str) -> dict[str, str]:
    """The environment of every casedesk process: only what this run sets.

    Any CASEDESK_* variable of the caller is dropped, so a developer's own settings (a real
    SMTP server, another data directory) can never leak into the journeys.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEDESK_")}
    env.update(
        CASEDESK_DATA_DIR=str(data_dir),
        CASEDESK_BASE_URL=base_url,
        CASEDESK_SECRET_KEY=SECRET_KEY,
        CASEDESK_EMAIL_URL=f"file://{data_dir / 'outbox'}",
        CASEDESK_ALLOWED_HOSTS="127.0.0.1,localhost",
        CASEDESK_DEBUG="false",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["CASEDESK_DATABASE_URL"] = database_url
    return env


def run_casedesk(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [*CASEDESK, *args], env=env, cwd=env["CASEDESK_DATA_DIR"],
        capture_output=True, text=True, timeout=180, check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"`casedesk {' '.join(args[:2])}` failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def journey_database(url: str) -> tuple[str, Callable[[], None]]:
    """A database of its own on the PostgreSQL server `url` names, made empty now.

    Returns its URL and a function that drops it. The journeys' data never touches the
    database the URL names, nor the test databases of the other suites.
    """
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))

    def drop() -> None:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(JOURNEY_DATABASE)
                )
            )

    drop()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(JOURNEY_DATABASE)))
    return urlunsplit(parts._replace(path=f"/{JOURNEY_DATABASE}")), drop


def wait_until_answering(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"casedesk serve exited ({server.returncode}):\n{tail(log)}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # An error page is still an answer: the test says what is wrong with it.
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"casedesk serve did not answer on {url} within {STARTUP_SECONDS:.0f} s:\n"
                f"{tail(log)}")


def tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def is_listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Ctrl-C, as an operator stops it: SIGINT to its process group.

    Fails unless it exits cleanly and nothing of it (a web worker) still holds the port.
    """
    try:
        os.killpg(server.pid, signal.SIGINT)
    except ProcessLookupError:
        pass
    try:
        code = server.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        pytest.fail(f"casedesk serve was still running {STOP_SECONDS:.0f} s after Ctrl-C; "
                    f"killed it.\n{tail(log)}")
    if is_listening(port):
        pytest.fail(f"Port {port} still answers after casedesk serve stopped.\n{tail(log)}")
    if code != 0:
        pytest.fail(f"casedesk serve exited with {code} on Ctrl-C.\n{tail(log)}")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("casedesk-data")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_url, drop_database = "", None
    if os.environ.get("CASEDESK_DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        database_url, drop_database = journey_database(os.environ["CASEDESK_DATABASE_URL"])
    env = server_env(data_dir, url, database_url)

    # As `make run` does it: migrate, then the demo helpdesk (partners, agents, cases).
    run_casedesk(env, "migrate", "--noinput")
    if database_url:
        # The journeys claim to have run on PostgreSQL: make sure no SQLite file was used.
        assert not list(data_dir.glob("*.sqlite3")), "migrate ignored CASEDESK_DATABASE_URL"
    run_casedesk(env, "demo")
    agent, org_name, org_domain = demo_cast()

    OUTPUT_ROOT.mkdir(parents=True, exist_ok=True)
    log = OUTPUT_ROOT / "server.log"
    with open(log, "wb") as log_file:
        # A session of its own, so SIGINT to its group is exactly a Ctrl-C in its terminal.
        server = subprocess.Popen(
            [*CASEDESK, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=data_dir, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answering(url, server, log)
        yield Site(url=url, data_dir=data_dir, agent=agent, org_name=org_name,
                   org_domain=org_domain, env=env)
    finally:
        stop(server, port, log)
        if drop_database is not None:
            drop_database()


# -- the browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


_failed = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed] = report.failed
    return report


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    # A parametrized test's name may hold any character; a folder name must not hold "/".
    folder = OUTPUT_ROOT / re.sub(r"[^\w.\[\]-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Shots(folder)


@pytest.fixture
def pages(
    chromium: Browser, site: Site, shots: Shots, request: pytest.FixtureRequest
) -> Iterator[Pages]:
    opened = Pages(chromium, site.url)
    yield opened
    if request.node.stash.get(_failed, False):
        for number, context in enumerate(opened.contexts, 1):
            for page in context.pages:
                page.screenshot(path=str(shots.folder / f"zz-failure-{number}.png"),
                                full_page=True)
    for context in opened.contexts:
        context.close()
    if opened.problems and not request.node.stash.get(_failed, False):
        pytest.fail("Pages had errors:\n" + "\n".join(opened.problems))


@pytest.fixture
def page(pages: Pages) -> Page:
    return pages.open()
