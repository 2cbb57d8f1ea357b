"""bench.inbound's peer: django-helpdesk's email_bench.py output read, the table's "vs
peer" labelled by where its figure comes from, and a peer that cannot be installed said.
No network: the failing peer is a stand-in setup.sh run for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.inbound import report, table
from bench.peer import PEER_PER_S, parse_peer_email, run_peer_email

# As email_bench.py prints it (its last line), after a Django warning on stderr-turned-out.
OUTPUT = (
    "some/path.py:12: RuntimeWarning: naive datetime\n"
    "get_email: 3000 messages in 25.0s = 120.0 msg/s (incl. ~1 s process start); "
    "tickets +3000, followups +3000, files left unprocessed: 0\n"
)


def drained(per_s: float) -> dict[str, Any]:
    return {"processed": 2000, "per_s": per_s, "seconds": 2000 / per_s, "cpu_s": 3.0,
            "counts": {"processed": 2000}, "rss_start_mb": 50.0, "rss_mark_mb": 60.0,
            "rss_mark_at": 400, "rss_end_mb": 61.0, "calib_ms": 61.5,
            "total_cpu_ms_per_message": 2.0}


def a_row(peer: dict[str, Any] | None) -> dict[str, Any]:
    """A row as run_db leaves it, with 600 msg/s processed and the given peer run."""
    measured = bool(peer and peer.get("ok"))
    row = {"db": "sqlite", "messages": 2000, "mix": {}, "attachments": 0, "mean_kb": 2.0,
           "smtp": {"ok": 2000, "errors": 0, "per_s": 300.0, "p50_ms": 5.0, "p99_ms": 9.0,
                    "calib_ms": 60.0},
           "drain": drained(600.0), "import_drain": drained(600.0),
           "import": {"per_s": 900.0, "summary": "stored 2000", "calib_ms": 62.0},
           "smtp_check": "OK", "import_check": "OK",
           "peer_per_s": peer["per_s"] if measured and peer else PEER_PER_S,
           "peer_measured": measured}
    if peer is not None:
        row["peer"] = peer
    return row


def test_the_peers_result_line_is_read() -> None:
    figures = parse_peer_email(OUTPUT)

    assert figures == {"messages": 3000, "seconds": 25.0, "per_s": 120.0, "tickets": 3000,
                       "followups": 3000, "files_left": 0, "check": "OK"}


def test_a_peer_that_did_not_ingest_everything_is_flagged() -> None:
    figures = parse_peer_email(
        "get_email: 100 messages in 2.0s = 50.0 msg/s (incl. ~1 s process start); "
        "tickets +90, followups +90, files left unprocessed: 10"
    )

    assert figures["per_s"] == 50.0
    assert figures["check"] == ("MISMATCH: tickets +90 != 100; followups +90 != 100; "
                                "10 files left")


def test_output_without_a_result_line_is_refused() -> None:
    with pytest.raises(ValueError, match="no 'get_email: ... msg/s' line.*Traceback"):
        parse_peer_email("Traceback (most recent call last):\n  boom\n")


def test_a_measured_peer_is_the_ratio_and_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    peer = {**parse_peer_email(OUTPUT), "ok": True, "calib_ms": 63.0, "load": 1.2,
            "tickets_before": 100_000, "cpu_ms_per_message": 12.0}

    lines = table([a_row(peer)]).splitlines()
    report([a_row(peer)])
    out = capsys.readouterr().out

    processed = [line for line in lines if "processed (after SMTP)" in line][0]
    assert processed.split()[-2:] == ["5.0x", "OK"]  # 600 / 120, no asterisk
    peer_line = [line for line in lines if "peer: django-helpdesk get_email" in line][0]
    assert "120.0" in peer_line and "63.0" in peer_line
    assert "calib ms" in lines[0]
    assert "100,000 tickets in its database before (measured in this run: 120 msg/s)" in out
    assert "the peer 12.0 ms" in out and "ours 2.0 / 2.0 ms after SMTP / import: 6.0x / 6.0x" in out
    assert "another machine" not in out


def test_without_the_peer_the_issue_figure_is_marked(capsys: pytest.CaptureFixture[str]) -> None:
    lines = table([a_row(None)]).splitlines()
    report([a_row(None)])
    out = capsys.readouterr().out

    processed = [line for line in lines if "processed (after SMTP)" in line][0]
    assert processed.split()[-2:] == ["7.0x*", "OK"]  # 600 / 86
    assert not [line for line in lines if "peer: django-helpdesk" in line]
    assert "vs peer*: issue 4's 86 msg/s" in out
    assert "measured once on another machine, not in this run" in out
    assert "measured in this run:" not in out


def test_a_peer_that_cannot_be_installed_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = tmp_path / "peer"
    scripts.mkdir()
    # pip's answer without a network, after the extra-index warnings this machine prints.
    (scripts / "setup.sh").write_text(
        "echo \"WARNING: Location 'file:///opt/pypi/simple/django/' is ignored\" >&2\n"
        "echo 'ERROR: No matching distribution found for django-helpdesk==2.6.1' >&2\n"
        "exit 1\n"
    )
    (scripts / "email_bench.py").write_text("raise SystemExit('never run')\n")
    log = tmp_path / "peer.log"

    peer = run_peer_email("sqlite", 10, log, peer_dir=scripts, root=tmp_path / "root")

    assert peer["ok"] is False
    assert peer["error"] == ("setup.sh: exited with status 1: ERROR: No matching "
                             "distribution found for django-helpdesk==2.6.1")
    assert "No matching distribution" in log.read_text()
    row = a_row(peer)
    lines = table([row]).splitlines()
    report([row])
    out = capsys.readouterr().out
    assert [line for line in lines if "peer: django-helpdesk" in line][0].endswith(
        "FAILED (see below)")
    processed = [line for line in lines if "processed (after import)" in line][0]
    assert processed.split()[-2:] == ["7.0x*", "OK"]
    assert ("sqlite vs peer*: the peer run failed (setup.sh: exited with status 1: ERROR: No "
            "matching distribution found for django-helpdesk==2.6.1); the ratio uses issue "
            "4's 86 msg/s") in out
