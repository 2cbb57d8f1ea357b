"""Every section's numbers for the known history (see conftest), from casedesk.reports.build,
which the pages, charts, CSVs and the benchmark all use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db.models import Case, F, When

from casedesk import reports
from casedesk.core.choices import Priority
from casedesk.reports.queries import Period, Report
from casedesk.reports.sql import offsets, percentiles
from casedesk.reports.tests.conftest import NOW, History, at, open_case
from casedesk.sla.models import Plan
from casedesk.tickets.models import Category

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
UTC_ZONE = ZoneInfo("UTC")


def march(**kwargs: Any) -> Report:
    with time_machine.travel(NOW, tick=False):
        return reports.build(*MARCH, zone=UTC_ZONE, **kwargs)


def rows(report: Report, slug: str) -> list[list[Any]]:
    return report.sections[slug].all_rows()


def test_sla_compliance_per_plan_and_priority(history: History) -> None:
    # Premium High: c1 in 30 min and c3 in 10 (target 1 h) met, c2 in 90 min late;
    # median of 10, 30, 90 is 30; the 90th percentile interpolates 30 + 0.8 * 60 = 78.
    # Premium Medium: c4 never answered, past its 4 h. Standard High: c5 in 60 min (2 h).
    # Standard Medium: c9 past its 8 h. Standard Low: c6 not due until 3 April.
    # Standard Question: c8 in 60 min. c7 was opened in February: not counted.
    # All: 10, 30, 60, 60, 90: the median 60, the 90th percentile 60 + 0.6 * 30 = 78.
    assert rows(march(), "sla") == [
        ["Premium", "High (Critical)", 2, 1, 0, 66.7, 30.0, 78.0],
        ["Premium", "Medium (Major)", 0, 1, 0, 0.0, None, None],
        ["Standard", "High (Critical)", 1, 0, 0, 100.0, 60.0, 60.0],
        ["Standard", "Medium (Major)", 0, 1, 0, 0.0, None, None],
        ["Standard", "Low (Minor)", 0, 0, 1, None, None, None],
        ["Standard", "Question (Request)", 1, 0, 0, 100.0, 60.0, 60.0],
        ["All plans", "All priorities", 4, 3, 1, 57.1, 60.0, 78.0],
    ]


def test_escalations_by_source_and_level(history: History) -> None:
    # c7's portal escalation was in February.
    report = march()
    assert [c.label for c in report.sections["escalations"].columns] == [
        "Source", "To level 2 (Senior Support Engineer)", "To level 3 (Support Manager)",
        "Total",
    ]
    assert rows(report, "escalations") == [
        ["Portal widget", 1, 0, 1],
        ["Phone call", 1, 0, 1],
        ["Agent", 0, 1, 1],
        ["SLA breach", 1, 0, 1],
        ["All sources", 3, 1, 4],
    ]


def test_backlog_by_age_and_status_as_of_now(history: History) -> None:
    # New: c6 (2 h old), c9 (2 days), c4 (26 days), c7 (39 days); open: c1, c2, c5;
    # waiting on the customer: c3; c8 is resolved.
    assert rows(march(), "backlog") == [
        ["New", 1, 1, 0, 1, 1, 4],
        ["Open", 0, 0, 0, 3, 0, 3],
        ["Waiting on customer", 0, 0, 0, 1, 0, 1],
        ["All open", 1, 1, 0, 5, 1, 8],
    ]


def test_volume_by_category_and_channel(history: History) -> None:
    report = march()
    assert [c.label for c in report.sections["volume"].columns] == [
        "Category", "Portal", "Email", "Phone", "API", "Total", "Share",
    ]
    assert rows(report, "volume") == [
        ["Service outage", 1, 2, 0, 1, 4, 50.0],
        ["Filtering and blocking", 1, 0, 1, 0, 2, 25.0],
        ["General question", 1, 0, 0, 0, 1, 12.5],
        ["No category", 1, 0, 0, 0, 1, 12.5],
        ["All categories", 4, 2, 1, 1, 8, 100.0],
    ]


def test_cases_opened_and_resolved_per_day(history: History) -> None:
    table = march().sections["timeline"]

    assert len(table.rows) == 31
    busy = {row[0]: row[1:] for row in table.rows if row[1] or row[2]}
    assert busy == {
        date(2026, 3, 2): [1, 0], date(2026, 3, 3): [1, 0], date(2026, 3, 4): [1, 0],
        date(2026, 3, 5): [1, 0], date(2026, 3, 6): [1, 0], date(2026, 3, 10): [1, 0],
        date(2026, 3, 12): [0, 1], date(2026, 3, 29): [1, 0], date(2026, 3, 31): [1, 0],
    }
    assert table.totals == ["Total", 8, 1]


def test_agent_activity(history: History) -> None:
    # Sam: replies on c1, c2, c8, a note on c2, resolved c8, first responses on c1 (30),
    # c2 (90), c8 (60). Lee: a note and a reply on c5, a reply on c3; first responses on
    # c3 (10) and c5 (60).
    assert rows(march(), "agents") == [
        ["Sam Agent", 3, 1, 1, 3, 60.0],
        ["Lee Other", 2, 1, 0, 2, 35.0],
        ["All agents", 5, 2, 1, 5, 60.0],
    ]


def test_an_organization_narrows_every_section(history: History) -> None:
    report = march(organization=history.atlas)

    assert [row[:2] for row in rows(report, "sla")] == [
        ["Standard", "High (Critical)"], ["Standard", "Medium (Major)"],
        ["Standard", "Low (Minor)"], ["Standard", "Question (Request)"],
        ["All plans", "All priorities"],
    ]
    assert rows(report, "escalations") == []
    assert rows(report, "backlog")[-1] == ["All open", 1, 1, 0, 1, 0, 3]
    assert rows(report, "volume")[-1] == ["All categories", 2, 1, 1, 4, 100.0]
    assert rows(report, "agents") == [
        ["Lee Other", 1, 1, 0, 1, 60.0],
        ["Sam Agent", 1, 0, 1, 1, 60.0],
        ["All agents", 2, 1, 1, 2, 60.0],
    ]


def test_a_plan_narrows_to_its_organizations(history: History) -> None:
    report = march(plan=Plan.objects.get(name="Premium"))

    assert [row[0] for row in rows(report, "sla")] == ["Premium", "Premium", "All plans"]
    assert rows(report, "escalations")[-1] == ["All sources", 3, 1, 4]
    # c1, c2, c3, c4 and February's c7.
    assert rows(report, "backlog")[-1] == ["All open", 0, 0, 0, 4, 1, 5]
    assert rows(report, "volume")[-1] == ["All categories", 2, 1, 1, 4, 100.0]
    assert rows(report, "agents")[-1] == ["All agents", 3, 1, 0, 3, 30.0]


def test_the_default_plan_includes_cases_without_an_organization(history: History) -> None:
    open_case(history.lina, at(3, 20, 9), Priority.LOW, "portal", None)
    loner = open_case(
        history.sam.__class__.objects.create_user("solo@example.org", None, full_name="Solo"),
        at(3, 21, 9), Priority.LOW, "email", None,
    )
    assert loner.organization_id is None

    report = march(plan=Plan.objects.get(name="Standard"))

    # Atlas's four March cases (portal 2, email, API), the one above (portal), and the
    # case without an organization (email).
    assert rows(report, "volume")[-1] == ["All categories", 3, 2, 1, 6, 100.0]


def test_days_are_the_time_zone_s_days(history: History) -> None:
    # 21:30 UTC on 31 March is already 1 April in Dubai (UTC+4).
    open_case(history.lina, at(3, 31, 21, 30), Priority.LOW, "portal", None)
    dubai = ZoneInfo("Asia/Dubai")
    with time_machine.travel(at(3, 31, 23), tick=False):
        in_utc = reports.build(date(2026, 3, 31), date(2026, 3, 31), zone=UTC_ZONE)
        in_dubai = reports.build(date(2026, 3, 31), date(2026, 3, 31), zone=dubai)
        april_in_dubai = reports.build(date(2026, 4, 1), date(2026, 4, 1), zone=dubai)

    # UTC: c6 (10:00) and the new one; Dubai's 31 March: c6 only (14:00 there).
    assert in_utc.sections["timeline"].rows == [[date(2026, 3, 31), 2, 0]]
    assert in_dubai.sections["timeline"].rows == [[date(2026, 3, 31), 1, 0]]
    assert april_in_dubai.sections["timeline"].rows == [[date(2026, 4, 1), 1, 0]]


def test_a_quarter_counts_per_day_and_longer_periods_per_month(history: History) -> None:
    with time_machine.travel(NOW, tick=False):
        quarter = reports.build(date(2026, 1, 1), date(2026, 3, 31), zone=UTC_ZONE,
                                sections=["timeline"])
        months = reports.build(date(2024, 10, 1), date(2026, 3, 31), zone=UTC_ZONE,
                               sections=["timeline"])

    assert len(quarter.sections["timeline"].rows) == 90
    month_rows = months.sections["timeline"].rows
    assert months.sections["timeline"].columns[0].label == "Month"
    assert len(month_rows) == 18
    assert [row[0] for row in month_rows][:2] == [date(2024, 10, 1), date(2024, 11, 1)]
    assert month_rows[-2:] == [[date(2026, 2, 1), 1, 0], [date(2026, 3, 1), 8, 1]]


def test_a_year_counts_per_week_from_monday(history: History) -> None:
    with time_machine.travel(NOW, tick=False):
        report = reports.build(date(2025, 10, 1), date(2026, 3, 31), zone=UTC_ZONE,
                               sections=["timeline"])

    table = report.sections["timeline"]
    assert table.columns[0].label == "Week from"
    by_week = {row[0]: row[1:] for row in table.rows}
    assert all(day.weekday() == 0 for day in by_week)
    # Monday 2 March: c1-c5; Monday 9 March: c8 opened, resolved on the 12th.
    assert by_week[date(2026, 3, 2)] == [5, 0]
    assert by_week[date(2026, 3, 9)] == [1, 1]
    assert by_week[date(2026, 2, 16)] == [1, 0]
    assert table.totals == ["Total", 9, 1]


def test_days_follow_daylight_saving_changes(history: History) -> None:
    # London moves to summer time at 01:00 UTC on 29 March 2026. 23:30 UTC is still
    # 28 March before the change, and already 30 March (00:30 BST) after it.
    open_case(history.lina, at(3, 28, 23, 30), Priority.LOW, "portal", None)
    open_case(history.lina, at(3, 29, 23, 30), Priority.LOW, "portal", None)
    london = ZoneInfo("Europe/London")
    with time_machine.travel(NOW, tick=False):
        report = reports.build(date(2026, 3, 27), date(2026, 3, 31), zone=london,
                               sections=["timeline"])

    # c9 opened at 12:00 UTC on the 29th (13:00 BST); c6 at 10:00 UTC on the 31st.
    assert report.sections["timeline"].rows == [
        [date(2026, 3, 27), 0, 0], [date(2026, 3, 28), 1, 0], [date(2026, 3, 29), 1, 0],
        [date(2026, 3, 30), 1, 0], [date(2026, 3, 31), 1, 0],
    ]


def test_offsets_split_a_period_at_each_change() -> None:
    london = ZoneInfo("Europe/London")
    period = Period(date(2026, 1, 1), date(2026, 12, 31), london)

    assert offsets(london, period.since, period.until) == [
        (period.since, 0),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 3600),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 0),
    ]
    dubai = Period(date(2026, 1, 1), date(2026, 12, 31), ZoneInfo("Asia/Dubai"))
    assert offsets(dubai.zone, dubai.since, dubai.until) == [
        (datetime(2025, 12, 31, 20, 0, tzinfo=UTC), 14400),
    ]


def test_percentiles_interpolate_like_percentile_cont(db: Any) -> None:
    # The seeded categories have positions 0 to 6; General question is the last.
    categories = Category.objects.all()
    by_name = F("name")

    assert percentiles(categories, [], F("position"), [0, 50, 90, 100]) == {
        (): (7, [0.0, 3.0, 5.4, 6.0]),
    }
    # One value: every percentile is it. Two: halfway and nine tenths of the way.
    two = categories.filter(position__in=[1, 6])
    assert percentiles(two, [], F("position"), [50, 90]) == {(): (2, [3.5, 5.5])}
    one = percentiles(categories.filter(position=2), [by_name], F("position"), [50, 90])
    assert one == {("Accounts and profiles",): (1, [2.0, 2.0])}
    assert percentiles(categories.none(), [], F("position")) == {}
    # NULL values (positions 3 to 6 here) are neither ranked nor counted, on both databases
    low = Case(When(position__lt=3, then=F("position")))
    assert percentiles(categories, [], low, [50, 100]) == {(): (3, [1.0, 2.0])}
    split = percentiles(categories, [F("is_active")], low, [50], with_total=True)
    assert split == {(True,): (3, [1.0]), (): (3, [1.0])}
    # With a total: the groups' values together.
    split = percentiles(categories, [F("is_active")], F("position"), [50], with_total=True)
    assert split == {(True,): (7, [3.0]), (): (7, [3.0])}
    Category.objects.filter(position__gte=4).update(is_active=False)
    split = percentiles(categories, [F("is_active")], F("position"), [50], with_total=True)
    assert split == {(True,): (4, [1.5]), (False,): (3, [5.0]), (): (7, [3.0])}
