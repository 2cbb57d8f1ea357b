"""The printed table and the summary against the issue's targets and the peer's figures."""

from __future__ import annotations

from typing import Any

# Issue 2's targets.
TARGET_SUBMISSIONS_PER_S = 400.0
TARGET_LIST_P50_MS = 20.0
# django-helpdesk 2.6.1 on this kind of machine, from ../shared/peers/django-helpdesk/README.md
# (gunicorn with 2 sync workers, 4 clients): public form 71.1 tickets/s at 10k tickets and
# 82.0 at 100k (SQLite); the staff list's data call (list_json, 25 rows) 941 ms p50 with
# one client at 100k tickets (SQLite), 1066 ms on PostgreSQL.
PEER_SUBMIT_PER_S = (71.1, 82.0)
PEER_LIST_P50_MS = {"sqlite": 941.0, "postgres": 1066.0}

COLUMNS = [
    ("scenario", 30, "<"), ("clients", 7, ">"), ("ok", 7, ">"), ("err", 5, ">"),
    ("per s", 8, ">"), ("p50 ms", 8, ">"), ("p99 ms", 8, ">"), ("POST p50", 9, ">"),
    ("POST p99", 9, ">"), ("web cpu/op", 10, ">"), ("calib", 6, ">"), ("check", 0, "<"),
]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """One line per measurement; skipped scenarios say why."""
    head = "  ".join(f"{name:{align}{width}}" for name, width, align in COLUMNS).rstrip()
    lines = [head, "-" * len(head)]
    for r in rows:
        if r.get("skipped"):
            lines.append(f"{r['scenario']:<30}  skipped: {r['skipped']}")
            continue
        values = [
            r["scenario"], r["clients"], r["ok"], r["errors"], r["per_s"], r["p50_ms"],
            r["p99_ms"], r.get("post_p50_ms"), r.get("post_p99_ms"), r.get("web_cpu_ms"),
            r.get("cpu_ms"),
            r.get("check", ""),
        ]
        cells = zip(values, COLUMNS, strict=True)
        lines.append("  ".join(f"{_cell(v):{align}{w}}" for v, (_, w, align) in cells).rstrip())
        for error in r.get("first_errors", []):
            lines.append(f"{'':<30}  error: {error}")
    return "\n".join(lines)


def _find(rows: list[dict[str, Any]], key: str, clients: int) -> dict[str, Any] | None:
    for r in rows:
        if r.get("key") == key and r.get("clients") == clients and not r.get("skipped"):
            return r
    return None


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def summary(db: str, rows: list[dict[str, Any]], peer: dict[str, float] | None) -> list[str]:
    """Lines comparing one database's figures with the targets and the peer."""
    out = []
    sub = _find(rows, "submit", 4)
    if sub is not None and sub["ok"]:
        rate = float(sub["per_s"])
        low, high = PEER_SUBMIT_PER_S
        out.append(
            f"{db}: submissions {rate:.0f}/s (no attachment, 4 clients): "
            f"{_verdict(rate >= TARGET_SUBMISSIONS_PER_S)} the target of "
            f">= {TARGET_SUBMISSIONS_PER_S:.0f}/s; {rate / high:.1f}-{rate / low:.1f}x "
            f"django-helpdesk's published {low:.0f}-{high:.0f}/s"
        )
        if peer and peer.get("submit_per_s"):
            out.append(f"    measured peer in this run: {peer['submit_per_s']:.1f}/s "
                       f"-> {rate / peer['submit_per_s']:.1f}x")
    else:
        out.append(f"{db}: submissions not measured")
    listing = _find(rows, "list", 1)
    if listing is not None and listing["p50_ms"] is not None:
        p50 = float(listing["p50_ms"])
        published = PEER_LIST_P50_MS[db]
        out.append(
            f"{db}: case list p50 {p50:.1f} ms (1 client): "
            f"{_verdict(p50 < TARGET_LIST_P50_MS)} the target of < {TARGET_LIST_P50_MS:.0f} ms; "
            f"{published / p50:.0f}x faster than django-helpdesk's published {published:.0f} ms "
            f"(its list's data call at 100,000 tickets)"
        )
        if peer and peer.get("list_p50_ms"):
            out.append(f"    measured peer in this run: {peer['list_p50_ms']:.0f} ms "
                       f"-> {peer['list_p50_ms'] / p50:.0f}x faster")
    else:
        out.append(f"{db}: case list not measured")
    return out
