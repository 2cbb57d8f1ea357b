"""PEER=1: run django-helpdesk's own benchmark scripts in the same run, for measured ratios.

The scripts live in ../shared/peers/django-helpdesk/ (setup.sh installs the peer into
/tmp/peer-dh from PyPI; bench.sh seeds it and measures). We only run them and read the
JSON lines they leave in /tmp/peer-dh/run/.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from bench.target import REPO

PEER_DIR = (REPO.parent / "shared" / "peers" / "django-helpdesk").resolve()
PEER_RUN = Path(os.environ.get("PEER_ROOT", "/tmp/peer-dh")) / "run"


def run_peer(db: str, cases: int, log_path: Path) -> dict[str, float]:
    """Set the peer up for `db`, run its bench at `cases` tickets, return the two figures
    we compare: tickets/s through its public form and its list's p50 with one client."""
    if not (PEER_DIR / "bench.sh").exists():
        raise FileNotFoundError(f"no peer scripts in {PEER_DIR}")
    env = {**os.environ, "DB": db, "N": str(cases)}
    with open(log_path, "ab") as log:
        for script in ("setup.sh", "bench.sh"):
            subprocess.run(  # noqa: S603 - the peer's own scripts, by path
                ["bash", str(PEER_DIR / script)], cwd=PEER_DIR, env=env, stdout=log,
                stderr=subprocess.STDOUT, check=True, timeout=1800,
            )
    rows: list[dict[str, Any]] = [
        json.loads(line)
        for line in (PEER_RUN / f"results-{db}-{cases}.jsonl").read_text().splitlines()
        if line.strip()
    ]
    figures: dict[str, float] = {}
    for r in rows:
        if str(r.get("name", "")).startswith("submit"):
            figures["submit_per_s"] = float(r["rps"])
        elif r.get("name") == "list_json" and r.get("conc") == 1:
            figures["list_p50_ms"] = float(r["p50_ms"])
    return figures
