"""`casedesk web` as an operator runs it: gunicorn with several processes, probes and
metrics over real HTTP, the request counts of every process added up."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from casedesk.core.tests.test_serve import CASEDESK, free_port
from casedesk.core.tests.test_serve import site as site  # noqa: F401 - the fixture
from casedesk.ops.tests.test_metrics import samples


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_web_runs_gunicorn_workers_and_adds_up_their_metrics(
    site: dict[str, str], tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    # Given `casedesk web` with two processes
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "web.log"
    process = subprocess.Popen(
        [CASEDESK, "web", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=site, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)

        # When pages are requested twenty times (served by either process)
        for _ in range(20):
            status, headers, _ = get(f"{base}/escalate/")
            assert status == 200
            assert len(headers["X-Request-ID"]) == 32
        ready = get(f"{base}/readyz")

        # Then the scrape counts all twenty, whichever process served the scrape
        status, _, body = get(f"{base}/metrics")
        assert status == 200
        figures = samples(body.decode())
        key = ("casedesk_http_requests_total",
               (("method", "GET"), ("route", "escalate/"), ("status", "200")))
        assert figures[key] == 20
        assert figures[("casedesk_database_up", ())] == 1
        # And the installation is ready (migrated database, nothing waiting)
        assert ready[0] == 200, ready[2]
        metrics_dir = next(
            Path(line.split("=", 1)[1]) for line in
            Path(f"/proc/{process.pid}/environ").read_bytes().decode().split("\0")
            if line.startswith("PROMETHEUS_MULTIPROC_DIR=")
        )
        assert list(metrics_dir.glob("*.db"))
    finally:
        # And SIGTERM (a service manager's stop) stops gunicorn cleanly
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()
    # And the metrics directory it made is gone with it
    assert not metrics_dir.exists()


def test_web_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CASEDESK_DATABASE_URL"}
    env["CASEDESK_DATA_DIR"] = str(tmp_path)
    result = subprocess.run([CASEDESK, "web", "--bind", f"127.0.0.1:{free_port()}"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Run `casedesk migrate` first" in result.stderr


@pytest.mark.parametrize("args", [["--workers", "0"], ["--threads", "x"]])
def test_web_refuses_bad_options(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run([CASEDESK, "web", *args], capture_output=True, text=True,
                            env={**os.environ, "CASEDESK_DATA_DIR": str(tmp_path)}, timeout=60)
    assert result.returncode == 2
    assert "must be" in result.stderr
