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


def _old_ago_text(seconds: int) -> str:
    """ago_text as it was written before its texts were kept, for times under a week."""
    from django.utils.translation import gettext, ngettext

    if abs(seconds) < 60:
        return gettext("just now")
    if seconds > 0:
        if seconds < 3600:
            n = seconds // 60
            return ngettext("%(count)s minute ago", "%(count)s minutes ago", n) % {"count": n}
        if seconds < 86400:
            n = seconds // 3600
            return ngettext("%(count)s hour ago", "%(count)s hours ago", n) % {"count": n}
        n = seconds // 86400
        return ngettext("%(count)s day ago", "%(count)s days ago", n) % {"count": n}
    ahead = -seconds
    if ahead < 3600:
        n = ahead // 60
        return ngettext("in %(count)s minute", "in %(count)s minutes", n) % {"count": n}
    if ahead < 86400:
        n = ahead // 3600
        return ngettext("in %(count)s hour", "in %(count)s hours", n) % {"count": n}
    n = ahead // 86400
    return ngettext("in %(count)s day", "in %(count)s days", n) % {"count": n}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_relative_texts_are_the_same_as_before(language: str) -> None:
    from casedesk.desk.templatetags.desk_tags import ago_text

    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    spans = sorted({*range(-200, 200), *range(-7 * 86400 + 1, 7 * 86400, 997),
                    59, 60, 61, 3599, 3600, 3601, 86399, 86400, 86401, -59, -60, -61,
                    -3599, -3600, -3601, -86399, -86400, -86401})
    with translation.override(language):
        for seconds in spans:
            assert ago_text(now - timedelta(seconds=seconds), now) == _old_ago_text(seconds)


def test_history_items_are_what_the_template_loop_wrote() -> None:
    from django.template import engines

    from casedesk.desk.history import Line

    now = datetime.now(UTC)
    lines = [Line(now - timedelta(days=9), 'Ann <"b"> & co replied', "reply"),
             Line(now - timedelta(minutes=3), "Status: New → Open", "status")]
    loop = engines["django"].from_string(
        "{% load desk_tags %}{% for line in history %}<li class=\"event-{{ line.kind }}\">"
        "{{ line.text }} <span class=\"when\">{{ line.at|ago }}</span></li>{% endfor %}")
    with translation.override("ar"):
        from casedesk.desk.templatetags.desk_tags import history_items

        assert str(history_items(lines)) == loop.render({"history": lines})
