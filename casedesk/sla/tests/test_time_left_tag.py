"""{% time_left %} writes what sla/_time_left.html wrote, for every state of a clock, in
English and Arabic, in the reader's time zone (a daylight-saving change included), every
value escaped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone
from django.utils.translation import override

from casedesk.sla.display import TimeLeft

DUE = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 in London: the hour that is skipped
CELLS = [
    None,
    TimeLeft("ok", "3 hours left", "first_response", "First response", DUE),
    TimeLeft("warn", "10 minutes left", "resolution", "Resolution", datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC)),  # 01:30 in London, twice that night
    TimeLeft("breach", "overdue by 2 days", "next_response", "Next <response> & \"co\"", DUE),
    TimeLeft("paused", "paused", "resolution", "Resolution", DUE),
    TimeLeft("met", "met", "first_response", "First response", DUE),
    TimeLeft("cancelled", "cancelled", "resolution", "Resolution", None),
    TimeLeft("<b>", "<i>text</i>", "x", "x", None),
]
INCLUDE = Template('{% include "sla/_time_left.html" with sla=sla %}')
TAG = Template("{% load sla_tags %}{% time_left sla %}")


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "Asia/Riyadh"])
@pytest.mark.parametrize("cell", CELLS)
def test_the_tag_writes_what_the_template_wrote(language: str, zone: str,
                                                cell: TimeLeft | None) -> None:
    with override(language), timezone.override(zone):
        assert TAG.render(Context({"sla": cell})) == INCLUDE.render(Context({"sla": cell}))


def test_every_value_is_escaped() -> None:
    html = TAG.render(Context({"sla": CELLS[3]}))
    assert "Next &lt;response&gt; &amp; &quot;co&quot; due" in html
    assert "<i>" not in TAG.render(Context({"sla": CELLS[-1]}))
