"""gunicorn hooks for `casedesk web` and `casedesk serve` (python:casedesk.ops.gunicorn_conf)."""

from __future__ import annotations

import os
import shutil
from typing import Any

from prometheus_client import multiprocess


def child_exit(server: Any, worker: Any) -> None:
    # A web process that exited (restarted by gunicorn, or killed) keeps its counters in the
    # sums, but its live gauges must not be read any more.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    # The metrics directory `casedesk web` made for this run (not one an operator chose).
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.environ.get("CASEDESK_METRICS_DIR_OWNED") == "1":
        shutil.rmtree(directory, ignore_errors=True)
