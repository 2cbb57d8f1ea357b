"""A manager prints the 90-day report, in Chromium, against `casedesk serve` with the demo
helpdesk: in print media the desk's navigation, the filters, the section links and the CSV
buttons are gone, every chart is drawn and fits the page's width, text is black on white,
a section's chart and table are not split across pages, and a long table repeats its
header. The printed PDF is kept next to the screenshots for people to look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from casedesk.journeys.support import Shots, Site
from casedesk.journeys.test_escalation import sign_in

pytestmark = pytest.mark.browser

# A4 at 96 CSS pixels to the inch, less the 14 mm margins of the print stylesheet.
A4_WIDTH_PX = 210 / 25.4 * 96
PRINTABLE_PX = A4_WIDTH_PX - 2 * 14 / 25.4 * 96


def layout(page: Page) -> dict[str, Any]:
    """What a reader of the printed page would notice, read from the DOM."""
    return page.evaluate(
        """() => {
        const shown = (el) => {
          const s = getComputedStyle(el);
          const r = el.getBoundingClientRect();
          return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0;
        };
        const all = (sel) => Array.from(document.querySelectorAll(sel));
        const body = getComputedStyle(document.body);
        return {
          hidden: Object.fromEntries(
            ['.topbar', '.footer', '.report-filters', '.report-toc', '.report-section .csv',
             '.skip'].map((sel) => [
               sel, all(sel).length > 0 && all(sel).every((el) => !shown(el))])),
          charts: all('.report-section .chart img').map((img) => ({
            shown: shown(img), loaded: img.complete && img.naturalWidth > 0,
            width: img.getBoundingClientRect().width,
            height: img.getBoundingClientRect().height})),
          tables: all('.report-table').map((t) => t.getBoundingClientRect().width),
          sections: all('.report-section').map((s) => getComputedStyle(s).breakInside),
          figures: all('.report-section .chart').map((f) => getComputedStyle(f).breakInside),
          rows: all('.report-table tr').map((r) => getComputedStyle(r).breakInside),
          headers: all('.report-table thead').map((h) => getComputedStyle(h).display),
          footers: all('.report-table tfoot').map((f) => getComputedStyle(f).display),
          tops: all('.report-section .section-top').map((t) => getComputedStyle(t).breakInside),
          color: body.color, background: body.backgroundColor,
          cellColors: Array.from(new Set(all('.report-table td, .report-table th, h1, h2')
                                 .map((el) => getComputedStyle(el).color))),
          scope: document.querySelector('.report-scope')?.textContent ?? '',
          overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        };
      }"""
    )


def test_the_90_day_report_prints_without_the_desk_around_it(
    page: Page, site: Site, shots: Shots
) -> None:
    # Given an agent on the 90-day report, on screen
    sign_in(page, site.agent)
    # Any 90 days ending about today: the page says which, in the agent's time zone.
    today = datetime.now(UTC).date()
    page.goto(f"/desk/reports/?start={(today - timedelta(days=89)).isoformat()}"
              f"&end={today.isoformat()}",
              # The six charts are drawn by matplotlib as the page loads: seconds on a
              # busy machine, more than the journeys' default wait.
              timeout=90_000)
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.locator(".topbar")).to_be_visible()
    expect(page.locator(".report-filters")).to_be_visible()
    shots.take(page, "report-screen")

    # When the page is printed (as the browser's print dialog renders it: print media, on
    # the printable width of an A4 page)
    page.set_viewport_size({"width": round(PRINTABLE_PX), "height": 1000})
    page.emulate_media(media="print")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.chart img')).every(i => i.complete)")
    printed = layout(page)
    shots.take(page, "report-print-media")
    page.pdf(path=str(shots.folder / "report.pdf"), format="A4", print_background=False)

    # Then nothing of the desk's chrome or the interactive parts is printed
    assert all(printed["hidden"].values()), printed["hidden"]
    # And the scope line says what the report covers
    assert "90 days" in printed["scope"]
    # And all six charts are drawn, at a readable size, within the page's width
    assert len(printed["charts"]) == 6
    for chart in printed["charts"]:
        assert chart["shown"] and chart["loaded"], chart
        assert 400 < chart["width"] <= PRINTABLE_PX + 1, chart
        assert chart["height"] > 100, chart
    assert all(width <= PRINTABLE_PX + 1 for width in printed["tables"]), printed["tables"]
    # And nothing sticks out of the page's width (a table clipped by its scrolling box,
    # a wide chart)
    assert printed["overflow"] <= 0, printed["overflow"]
    # And a chart is never cut across two pages, nor a table's row; a table that runs
    # over a page repeats its header
    assert set(printed["figures"]) == {"avoid"}
    # (a section's title and note stay with its chart)
    assert printed["tops"] == ["avoid"] * 6
    assert set(printed["rows"]) == {"avoid"}
    assert set(printed["headers"]) == {"table-header-group"}
    # (and its totals come once, at its end, not at the foot of every page)
    assert set(printed["footers"]) == {"table-row-group"}
    # And it is black on white
    assert printed["color"] == "rgb(0, 0, 0)"
    assert printed["background"] in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    assert printed["cellColors"] == ["rgb(0, 0, 0)"], printed["cellColors"]

    # And back on screen, the desk is all there again
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator(".topbar")).to_be_visible()
    expect(page.locator(".report-filters")).to_be_visible()
