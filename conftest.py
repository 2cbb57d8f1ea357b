"""The `--browser` switch. Browser journeys start the real server and a Chromium, so a plain
`pytest` skips them (before any fixture runs) and `pytest --browser` runs them."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser",
        action="store_true",
        default=False,
        help="run the browser journeys (tests marked `browser`): they start `casedesk serve` "
        "and drive /usr/bin/chromium",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--browser"):
        return
    skip = pytest.mark.skip(
        reason="browser journey: run with --browser (starts casedesk serve and Chromium)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
