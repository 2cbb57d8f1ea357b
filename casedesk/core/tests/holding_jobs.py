"""A job for the lease tests: it holds while a file exists, so a test can kill its worker
mid-job, and records its effect in a file only when it finishes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django_tasks import task


@task(queue_name="default")
def hold(directory: str) -> str:
    folder = Path(directory)
    (folder / f"started-{os.getpid()}").touch()
    while (folder / "hold").exists():
        time.sleep(0.05)
    with open(folder / "effects", "a", encoding="ascii") as effects:
        effects.write(f"{os.getpid()}\n")
    return "done"
