"""The desk's own date writing (desk_tags.day_text and minute_text) says exactly what
Django's date format would, in every language and zone, around DST changes too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import dateformat, translation

from casedesk.desk.templatetags.desk_tags import ago, day_text, minute_text

MOMENTS = [
    datetime(2026, 1, 5, 9, 7, tzinfo=UTC),
    datetime(2026, 5, 31, 23, 59, tzinfo=UTC),
    datetime(999, 12, 1, 0, 0, tzinfo=UTC),
    # Around Europe's autumn change (01:00 UTC): 02:30 local happens twice.
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Riyadh", "Asia/Kolkata"]


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("zone", ZONES)
def test_dates_read_as_djangos_date_format(language: str, zone: str) -> None:
    with translation.override(language):
        for moment in MOMENTS:
            for local in (moment.astimezone(ZoneInfo(zone)),
                          moment.astimezone(ZoneInfo(zone)).replace(fold=1)):
                assert day_text(local) == dateformat.format(local, "j M Y")
                assert minute_text(local) == dateformat.format(local, "j M Y, H:i T")


def test_ago_escapes_and_dates_old_times() -> None:
    old = datetime.now(UTC) - timedelta(days=30)
    with translation.override("en"):
        html = str(ago(old))
    assert f">{dateformat.format(old, 'j M Y')}</time>" in html
    assert html.startswith(f'<time datetime="{old.isoformat()}" title="')
