"""The reports page, its charts and CSVs: the numbers in the table, the CSV and the chart
are the same; bad filters say what is wrong; only agents get in."""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from casedesk.accounts.models import User
from casedesk.conftest import make_agent
from casedesk.reports.queries import SECTIONS
from casedesk.reports.tests.conftest import NOW, History
from casedesk.sla.models import Plan

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, name: str, *args: Any, **query: Any) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse(name, args=args), query)


def read_csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def sam(history: History) -> Client:
    return signed_in(history.sam)


def test_the_page_shows_every_section_with_its_chart_table_and_csv(sam: Client) -> None:
    response = get(sam, "reports:index", **MARCH)

    assert response.status_code == 200
    html = response.content.decode()
    for slug in SECTIONS:
        query = "start=2026-03-01&amp;end=2026-03-31"
        assert f'src="/desk/reports/{slug}.svg?{query}"' in html
        assert f'href="/desk/reports/{slug}.csv?{query}"' in html
    page = text(html)
    assert "1 Mar 2026 to 31 Mar 2026 (31 days, UTC)" in page
    # SLA: Premium High with its share, median and 90th percentile.
    assert "Premium High (Critical) 2 1 0 66.7% 30 min 1 h 18 min" in page
    assert "All plans All priorities 4 3 1 57.1% 1 h 00 min 1 h 18 min" in page
    assert "Sam Agent 3 1 1 3 1 h 00 min" in page
    assert "All open 1 1 0 5 1 8" in page


def test_the_csv_holds_the_numbers_of_the_table(sam: Client) -> None:
    response = get(sam, "reports:csv", "sla", **MARCH)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="casedesk-sla-2026-03-01-to-2026-03-31.csv"'
    )
    assert read_csv(response) == [
        ["Plan", "Priority", "Met", "Breached", "Waiting", "Share met (%)",
         "Median first response (minutes)", "90th percentile first response (minutes)"],
        ["Premium", "High (Critical)", "2", "1", "0", "66.7", "30.0", "78.0"],
        ["Premium", "Medium (Major)", "0", "1", "0", "0.0", "", ""],
        ["Standard", "High (Critical)", "1", "0", "0", "100.0", "60.0", "60.0"],
        ["Standard", "Medium (Major)", "0", "1", "0", "0.0", "", ""],
        ["Standard", "Low (Minor)", "0", "0", "1", "", "", ""],
        ["Standard", "Question (Request)", "1", "0", "0", "100.0", "60.0", "60.0"],
        ["All plans", "All priorities", "4", "3", "1", "57.1", "60.0", "78.0"],
    ]


def test_every_section_has_a_csv(sam: Client) -> None:
    expected = {
        "escalations": ["All sources", "3", "1", "4"],
        "backlog": ["All open", "1", "1", "0", "5", "1", "8"],
        "volume": ["All categories", "4", "2", "1", "1", "8", "100.0"],
        "timeline": ["Total", "8", "1"],
        "agents": ["All agents", "5", "2", "1", "5", "60.0"],
    }
    for slug, last in expected.items():
        table = read_csv(get(sam, "reports:csv", slug, **MARCH))
        assert table[-1] == last, slug
    timeline = read_csv(get(sam, "reports:csv", "timeline", **MARCH))
    assert timeline[0] == ["Day", "Opened", "Resolved"]
    assert timeline[2] == ["2026-03-02", "1", "0"]


def test_a_name_a_spreadsheet_would_run_is_written_as_text(history: History,
                                                           sam: Client) -> None:
    User.objects.filter(pk=history.lee.pk).update(full_name="=HYPERLINK(1)")

    rows = read_csv(get(sam, "reports:csv", "agents", **MARCH))

    assert ["'=HYPERLINK(1)", "2", "1", "0", "2", "35.0"] in rows


def test_each_chart_is_an_svg_drawn_from_the_section(sam: Client) -> None:
    for slug in SECTIONS:
        response = get(sam, "reports:chart", slug, **MARCH)

        assert response.status_code == 200, slug
        assert response["Content-Type"] == "image/svg+xml"
        assert "max-age=300" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        svg = response.content.decode()
        assert svg.startswith("<?xml") and "<svg" in svg, slug
        assert "Matplotlib" in svg, slug
    sla = get(sam, "reports:chart", "sla", **MARCH).content.decode()
    # Text stays text: the labels and values can be read (and printed) as such.
    assert "Premium · High" in sla and "66.7%" in sla
    agents = get(sam, "reports:chart", "agents", **MARCH).content.decode()
    assert "Sam Agent" in agents and "Lee Other" in agents


def test_a_chart_of_an_empty_period_says_so(sam: Client) -> None:
    response = get(sam, "reports:chart", "sla", start="2025-01-01", end="2025-01-31")

    assert response.status_code == 200
    assert "Nothing to show for this period." in response.content.decode()


def test_filters_narrow_the_page_the_charts_and_the_csvs(history: History,
                                                         sam: Client) -> None:
    premium = Plan.objects.get(name="Premium")
    response = get(sam, "reports:index", **MARCH, plan=premium.pk)

    html = response.content.decode()
    assert f"/desk/reports/sla.csv?start=2026-03-01&amp;end=2026-03-31&amp;plan={premium.pk}" \
        in html
    assert "all organizations · Premium plan" in text(html)
    rows = read_csv(get(sam, "reports:csv", "sla", **MARCH, plan=premium.pk))
    assert [row[0] for row in rows[1:]] == ["Premium", "Premium", "All plans"]
    rows = read_csv(get(sam, "reports:csv", "volume", **MARCH, organization=history.atlas.pk))
    assert rows[-1] == ["All categories", "2", "1", "1", "4", "100.0"]


def test_without_dates_the_page_shows_the_last_30_days(sam: Client) -> None:
    response = get(sam, "reports:index")

    assert response.status_code == 200
    assert response.context["form"].cleaned_data["start"].isoformat() == "2026-03-02"
    assert response.context["form"].cleaned_data["end"].isoformat() == "2026-03-31"
    presets = dict(response.context["presets"])
    assert parse_qs(urlsplit(presets[7]).query) == {
        "start": ["2026-03-25"], "end": ["2026-03-31"]}
    assert parse_qs(urlsplit(presets[90]).query) == {
        "start": ["2026-01-01"], "end": ["2026-03-31"]}


def test_presets_keep_the_organization(history: History, sam: Client) -> None:
    response = get(sam, "reports:index", **MARCH, organization=history.gulf.pk)

    presets = dict(response.context["presets"])
    assert parse_qs(urlsplit(presets[30]).query)["organization"] == [str(history.gulf.pk)]


def test_days_are_the_agent_s_own(history: History) -> None:
    dubai = make_agent(email="dana@casedesk.example", full_name="Dana", time_zone="Asia/Dubai")

    response = get(signed_in(dubai), "reports:index", **MARCH)

    assert "(31 days, Asia/Dubai)" in text(response.content.decode())
    assert response.context["report"].period.since.isoformat() == "2026-03-01T00:00:00+04:00"


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"start": "2026-03-10", "end": "2026-03-01"}, "end",
     "The last day is before the first day."),
    ({"start": "2020-01-01", "end": "2026-03-31"}, "start",
     "A report covers at most 1098 days (about three years)"),
    ({"start": "2026-02-30", "end": "2026-03-31"}, "start",
     "Enter a date as YYYY-MM-DD, such as 2026-03-01."),
    ({"start": "yesterday", "end": "2026-03-31"}, "start", "Enter a date as YYYY-MM-DD"),
    ({**MARCH, "organization": "999999"}, "organization", "There is no such organization"),
    ({**MARCH, "organization": "gulf"}, "organization", "There is no such organization"),
    ({**MARCH, "plan": "0"}, "plan", "There is no such plan"),
])
def test_bad_filters_say_what_is_wrong_beside_the_field(sam: Client, query: dict[str, str],
                                                        field: str, message: str) -> None:
    response = get(sam, "reports:index", **query)

    assert response.status_code == 400
    assert "report" not in response.context
    html = response.content.decode()
    beside = re.search(rf'<div class="field has-error">\s*<label for="id_{field}">.*?</div>',
                       html, re.S)
    assert beside is not None, html
    assert message in beside.group(0)
    # What was typed stays in the form.
    assert response.context["form"]["start"].value() == query["start"]
    # The charts and CSVs of bad filters are not there.
    assert get(sam, "reports:chart", "sla", **query).status_code == 404
    assert get(sam, "reports:csv", "sla", **query).status_code == 404


def test_an_unknown_section_is_not_found(sam: Client) -> None:
    assert get(sam, "reports:chart", "secrets", **MARCH).status_code == 404
    assert get(sam, "reports:csv", "secrets", **MARCH).status_code == 404


def test_customers_never_see_reports(history: History) -> None:
    noor = signed_in(history.noor)
    for name, args in [("reports:index", []), ("reports:chart", ["sla"]),
                       ("reports:csv", ["sla"])]:
        assert get(noor, name, *args, **MARCH).status_code == 404


def test_visitors_are_sent_to_sign_in(history: History) -> None:
    response = get(Client(), "reports:csv", "sla", **MARCH)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("accounts:signin")


def test_the_desk_links_to_reports(sam: Client) -> None:
    html = get(sam, "desk:queue").content.decode()

    assert '<a href="/desk/reports/">Reports</a>' in html
    page = get(sam, "reports:index").content.decode()
    assert '<a href="/desk/reports/" aria-current="page">Reports</a>' in page
