"""PEER=1: run django-helpdesk's own benchmark scripts in the same run, for measured ratios.

The scripts live in ../shared/peers/django-helpdesk/ (setup.sh installs the peer into
/tmp/peer-dh from PyPI; bench.sh seeds it and measures; email_bench.py times its
`get_email` on a folder of generated messages). We only run them and read what they
leave in /tmp/peer-dh/run/ or print.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.target import REPO


def _peer_dir() -> Path:
    """$PEER_DIR, else ../shared/peers/django-helpdesk beside the checkout, or two levels
    up for a git worktree under /work/wt/<name> (whose parent holds no shared/)."""
    if os.environ.get("PEER_DIR"):
        return Path(os.environ["PEER_DIR"]).resolve()
    beside = [base / "shared" / "peers" / "django-helpdesk"
              for base in (REPO.parent, REPO.parent.parent)]
    return next((p for p in beside if p.is_dir()), beside[0]).resolve()


PEER_DIR = _peer_dir()
PEER_RUN = Path(os.environ.get("PEER_ROOT", "/tmp/peer-dh")) / "run"

# Issue 4's peer figure: django-helpdesk 2.6.1's get_email, 1,000 messages from a local
# folder, measured once on another machine. Only a fallback: --peer measures it here.
PEER_PER_S = 86.0
# Messages for the peer's email_bench.py: its rate is over the wall time of one process,
# Django's ~1 s start-up included: ~8% of it at the README's 1,000 messages (86/s), ~3% at
# 3,000, which still take well under a minute per database at its speed.
PEER_MESSAGES = 3_000


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


# email_bench.py's one line of result, e.g. "get_email: 1000 messages in 11.6s = 86.2 msg/s
# (incl. ~1 s process start); tickets +1000, followups +1000, files left unprocessed: 0".
EMAIL_LINE = re.compile(
    r"get_email: (?P<messages>\d+) messages in (?P<seconds>[\d.]+)s = (?P<per_s>[\d.]+) msg/s"
    r".*?tickets \+(?P<tickets>-?\d+), followups \+(?P<followups>-?\d+), "
    r"files left unprocessed: (?P<left>\d+)"
)


def parse_peer_email(output: str) -> dict[str, Any]:
    """The figures of email_bench.py's result line (the last one, if several). Its msg/s is
    its message count over the wall time of one `manage.py get_email` process, Django's
    start-up (~1 s) included. The check is OK when every message became one ticket with
    one follow-up and no file was left behind; otherwise the rate counts messages the peer
    did not ingest. ValueError when there is no such line."""
    found = list(EMAIL_LINE.finditer(output))
    if not found:
        tail = " | ".join(output.strip().splitlines()[-3:]) or "nothing"
        raise ValueError(f"no 'get_email: ... msg/s' line in its output (it printed: {tail})")
    m = found[-1]
    messages, tickets = int(m["messages"]), int(m["tickets"])
    followups, left = int(m["followups"]), int(m["left"])
    problems = []
    if tickets != messages:
        problems.append(f"tickets +{tickets} != {messages}")
    if followups != messages:
        problems.append(f"followups +{followups} != {messages}")
    if left:
        problems.append(f"{left} files left")
    return {"messages": messages, "seconds": float(m["seconds"]), "per_s": float(m["per_s"]),
            "tickets": tickets, "followups": followups, "files_left": left,
            "check": "OK" if not problems else "MISMATCH: " + "; ".join(problems)}


def _log_tail(path: Path, start: int, lines: int = 2) -> str:
    """The last lines a step wrote to the peer log (from byte `start` on) worth quoting:
    pip's many "WARNING: Location ... is ignored" lines (this machine's extra package
    indexes) say nothing about a failure."""
    try:
        with open(path, "rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace")
    except OSError:
        return ""
    useful = [line.strip() for line in text.splitlines()
              if line.strip() and not line.startswith("WARNING: Location")]
    return " | ".join(useful[-lines:])


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's finished children and theirs: the
    peer's email_bench.py and the `manage.py get_email` it waits for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_peer_email(db: str, messages: int, log_path: Path, *, calibrate: Any = None,
                   peer_dir: Path | None = None, root: Path | None = None) -> dict[str, Any]:
    """django-helpdesk's e-mail ingestion on `db`, measured now: its setup.sh (installs it
    from PyPI the first time: minutes; SQLite by default, DB=postgres), its seed.py
    --purge-loadgen (tickets from earlier mail runs go, so every run starts alike), then
    email_bench.py --n `messages` with the peer venv's Python. `calibrate()`, if given, is
    timed just before email_bench.py. Never raises: a failure comes back as
    {"ok": False, "error": why}, so our own figures are still printed."""
    peer_dir = peer_dir or PEER_DIR
    root = root or Path(os.environ.get("PEER_ROOT", "/tmp/peer-dh"))
    python = str(root / "venv" / "bin" / "python")
    env = {**os.environ, "DB": db, "PEER_ROOT": str(root), "PEER_SITE": str(root / "site"),
           "PEER_PY": python}
    result: dict[str, Any] = {"ok": False, "db": db, "messages": messages,
                              "log": str(log_path)}
    steps = [
        ("setup.sh", ["bash", str(peer_dir / "setup.sh")], 1800),
        ("seed.py --purge-loadgen", [python, str(peer_dir / "seed.py"), "--purge-loadgen",
                                     "--count"], 600),
        ("email_bench.py", [python, str(peer_dir / "email_bench.py"), "--n", str(messages),
                            "--dir", str(root / "maildir")], 600 + messages),
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    step = "the peer scripts"
    try:
        if not (peer_dir / "email_bench.py").exists():
            raise FileNotFoundError(f"no email_bench.py in {peer_dir}")
        for step, command, timeout in steps:
            if step == "email_bench.py" and calibrate is not None:
                result["calib_ms"] = calibrate()
            cpu0 = _children_cpu_s()
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"\n$ DB={db} {' '.join(command)}\n")
                log.flush()
                start = log.tell()
                done = subprocess.run(  # noqa: S603 - the peer's own scripts, by path
                    command, cwd=peer_dir, env=env, stdout=subprocess.PIPE, stderr=log,
                    text=True, timeout=timeout, check=False,
                )
                log.write(done.stdout)
            if done.returncode != 0:
                why = _log_tail(log_path, start)
                raise RuntimeError(f"exited with status {done.returncode}"
                                   + (f": {why}" if why else ""))
            counted = re.search(r"tickets=(\d+)", done.stdout)
            if step.startswith("seed.py") and counted:
                # Its database's size: issue 4's 86/s was measured with 100,000 tickets in.
                result["tickets_before"] = int(counted[1])
        result.update(parse_peer_email(done.stdout), ok=True)
        result["load"] = round(os.getloadavg()[0], 2)
        # Wall time on a shared machine says little: what its processes used, per message.
        cpu = _children_cpu_s() - cpu0
        result["cpu_s"] = round(cpu, 2)
        result["cpu_ms_per_message"] = round(cpu * 1000 / max(result["messages"], 1), 2)
    except subprocess.TimeoutExpired as exc:
        result["error"] = f"{step} did not finish within {exc.timeout:g} s"
    except (OSError, RuntimeError, ValueError) as exc:
        result["error"] = f"{step}: {exc}"
    if not result["ok"]:
        print(f"   peer run failed: {result['error']} (log: {log_path})", file=sys.stderr,
              flush=True)
    return result


def measure_peer_email(vendor: str, messages: int) -> dict[str, Any]:
    """django-helpdesk's get_email on the same database kind, after our runs (so the two
    never share the CPU); its log goes next to our results."""
    from bench.desk import calibration_ms
    from bench.target import results_file

    log = results_file(f"inbound-peer-{vendor}").with_suffix(".log")
    print(f"\n== django-helpdesk 2.6.1 get_email on {vendor}, {messages:,} messages (the "
          f"peer's own scripts; minutes the first time; log {log.name})", flush=True)
    peer = run_peer_email(vendor, messages, log, calibrate=calibration_ms)
    if peer["ok"]:
        print(f"   {peer['messages']:,} in {peer['seconds']} s = {peer['per_s']} msg/s: "
              f"{peer['check']}", flush=True)
    return peer


def peer_note(row: dict[str, Any]) -> str:
    """Where the row's "vs peer" figure comes from, in words."""
    peer = row.get("peer")
    if row.get("peer_measured") and peer:
        held = peer.get("tickets_before")
        note = (f"{row['db']} vs peer: django-helpdesk 2.6.1 `get_email`, "
                f"{peer['messages']:,} messages from a local folder in one process, Django "
                f"start-up included, {'?' if held is None else f'{held:,}'} tickets in its "
                f"database before (measured in this run: {peer['per_s']:g} msg/s); "
                f"{peer['check']}; calib {peer.get('calib_ms')} ms, load {peer.get('load')}")
        theirs = peer.get("cpu_ms_per_message")
        if not theirs:
            return note
        ours = [row[key].get("total_cpu_ms_per_message") for key in ("drain", "import_drain")]
        ratios = " / ".join(f"{theirs / mine:.1f}x" if mine else "-" for mine in ours)
        return (note + f"\n      CPU per message (moves less with the neighbours than wall "
                f"time): the peer {theirs} ms (email_bench.py writing the messages and its "
                "get_email, both Django start-ups included"
                + ("; its PostgreSQL server's CPU not counted" if row["db"] == "postgres"
                   else "")
                + f"), ours {' / '.join(str(m) for m in ours)} ms after SMTP / import: "
                f"{ratios} less")
    fallback = (f"issue 4's {PEER_PER_S:g} msg/s for django-helpdesk 2.6.1, measured once on "
                "another machine, not in this run")
    if peer:
        return (f"{row['db']} vs peer*: the peer run failed ({peer.get('error')}); the ratio "
                f"uses {fallback}")
    return (f"{row['db']} vs peer*: {fallback} (this VM's speed varies, so the ratio is "
            "indicative only; --peer or PEER=1 measures the peer here)")
