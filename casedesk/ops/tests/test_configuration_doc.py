"""docs/configuration.md lists every environment variable casedesk reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "casedesk"
DOC = ROOT / "docs" / "configuration.md"

# A variable is read when its name is a string literal in casedesk's code (env_str("X"),
# os.environ.get("X"), a NAME_ENV = "X" constant, an error message telling to set it), and
# for any name, when it is read through os.environ or os.getenv.
CASEDESK_LITERAL = re.compile(r"[\"'](CASEDESK_[A-Z0-9_]+)[\"']")
ENVIRON_READ = re.compile(
    r"(?:os\.environ(?:\.get|\.setdefault)?\s*[\(\[]|os\.getenv\(|env_(?:str|int|bool|list|path)\()"
    r"\s*[\"']([A-Z][A-Z0-9_]+)[\"']"
)


def read_in_code() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SOURCE.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if "tests" in relative.parts or "journeys" in relative.parts or path.name == "conftest.py":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (CASEDESK_LITERAL, ENVIRON_READ):
            for match in pattern.finditer(text):
                found.setdefault(match.group(1), set()).add(str(relative))
    return found


def documented() -> set[str]:
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", DOC.read_text(encoding="utf-8"),
                          flags=re.MULTILINE))


def test_every_variable_read_in_code_is_documented() -> None:
    found = read_in_code()
    missing = {name: sorted(paths) for name, paths in found.items() if name not in documented()}
    assert missing == {}, f"add these to docs/configuration.md: {missing}"


def test_the_scan_finds_variables_split_over_lines_and_read_outside_settings() -> None:
    found = read_in_code()
    # env_int(\n "CASEDESK_ESCALATION_COOLDOWN_MINUTES", ...) in settings.py
    assert "CASEDESK_ESCALATION_COOLDOWN_MINUTES" in found
    # PASSWORD_ENV = "CASEDESK_ADMIN_PASSWORD" in createadmin.py
    assert "CASEDESK_ADMIN_PASSWORD" in found
    # os.environ.get("PROMETHEUS_MULTIPROC_DIR") in casedesk/ops
    assert "PROMETHEUS_MULTIPROC_DIR" in found


def test_every_documented_variable_is_read_somewhere() -> None:
    stale = documented() - set(read_in_code())
    assert stale == set(), f"documented but no longer read: {sorted(stale)}"
