"""What people see of the SLA clocks: time left in the desk queue, the Breaching soon view,
the due-time timeline on both case pages, and the customer's target in their time zone."""

from __future__ import annotations

import re
from datetime import date, time
from html import unescape
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casedesk.accounts.models import Organization, User
from casedesk.conftest import make_case, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.sla.display import duration
from casedesk.sla.jobs import sweep
from casedesk.sla.models import Calendar, Holiday, Plan, WeeklyHours
from casedesk.sla.tests.conftest import later
from casedesk.tickets.actions import add_message, change_priority, change_status
from casedesk.tickets.models import Category, Ticket

QUEUE = "/desk/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def due_cells(html: str) -> dict[int, str]:
    """Case ID -> the text of its Due cell, from the queue's rows."""
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        case = re.search(r'<td class="num"><a [^>]*>(\d+)</a>', row)
        due = re.search(r'<span class="sla (sla-\w+)"[^>]*>([^<]*)</span>', row)
        if case:
            cells[int(case.group(1))] = f"{due.group(1)} {due.group(2)}" if due else "-"
    return cells


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num"><a [^>]*>(\d+)</a>', html)]


def test_duration_reads_short() -> None:
    assert [duration(s) for s in (20, 60, 35 * 60, 2 * 3600, 2 * 3600 + 14 * 60,
                                  3 * 86400 + 4 * 3600)] == [
        "<1m", "1m", "35m", "2h", "2h 14m", "3d 4h"]


def test_the_queue_shows_each_case_time_left_with_its_colour(
    contact: User, agent: User, frozen: Any
) -> None:
    # Given four Premium cases at T0: High (1 h), Medium (4 h), one waiting, one answered
    high = make_case(contact, priority=Priority.HIGH).ticket
    medium = make_case(contact, priority=Priority.MEDIUM).ticket
    waiting = make_case(contact, priority=Priority.MEDIUM).ticket
    answered = make_case(contact, priority=Priority.LOW).ticket
    change_status(waiting.pk, agent, Ticket.Status.PENDING)
    add_message(answered.pk, agent, "Done.", [])

    # When the agent looks at the queue 3 h 10 later
    frozen(later(hours=3, minutes=10))
    cells = due_cells(signed_in(agent).get(QUEUE).content.decode())

    # Then each row says how it stands
    assert cells[high.pk] == "sla-breach overdue by 2h 10m"
    assert cells[medium.pk] == "sla-warn 50m left"
    assert cells[waiting.pk] == "sla-paused paused"
    assert cells[answered.pk] == "-"


def test_breaching_soon_lists_cases_by_their_next_due_time_overdue_first(
    contact: User, agent: User, frozen: Any
) -> None:
    low = make_case(contact, priority=Priority.LOW).ticket  # 48 h
    high = make_case(contact, priority=Priority.HIGH).ticket  # 1 h
    medium = make_case(contact, priority=Priority.MEDIUM).ticket  # 4 h
    waiting = make_case(contact, priority=Priority.HIGH).ticket
    change_status(waiting.pk, agent, Ticket.Status.PENDING)
    frozen(later(hours=2))
    later_high = make_case(contact, priority=Priority.HIGH).ticket  # due at 3 h

    html = signed_in(agent).get(QUEUE, {"view": "breaching"}).content.decode()

    assert "Breaching soon" in html
    # Overdue or due within 4 hours: the Low case (due in 46 h) is not breaching soon.
    assert listed(html) == [high.pk, later_high.pk, medium.pk]
    assert low.pk not in listed(html)
    # Filters narrow it as in any view.
    narrowed = signed_in(agent).get(QUEUE, {"view": "breaching", "priority": "1"})
    assert listed(narrowed.content.decode()) == [high.pk, later_high.pk]


def test_breaching_soon_pages_and_costs_the_same_queries_at_any_size(
    agent: User, frozen: Any, monkeypatch: Any
) -> None:
    from casedesk.desk import queue

    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    org = make_org(plan="Standard")
    tickets = [make_case(make_contact(org)).ticket for _ in range(3)]
    client = signed_in(agent)
    client.get(QUEUE)  # caches warmed
    with CaptureQueriesContext(connection) as few:
        first = client.get(QUEUE, {"view": "breaching"}).content.decode()
    for _ in range(6):
        make_case(make_contact(org), priority=Priority.LOW)
    with CaptureQueriesContext(connection) as many:
        client.get(QUEUE, {"view": "breaching"})
    cursor = re.search(r'href="\?([^"]+)" rel="next"', first)
    assert cursor is not None
    second = client.get(QUEUE + "?" + cursor.group(1).replace("&amp;", "&")).content.decode()

    assert listed(first) == [tickets[0].pk, tickets[1].pk] and 'rel="next"' in first
    assert listed(second)[0] == tickets[2].pk
    assert len(many) == len(few)


def test_the_desk_case_page_explains_the_due_time_step_by_step(
    contact: User, agent: User, levels: Any, frozen: Any
) -> None:
    # Given a Premium Low case (48 h) paused for 2 h, then raised to High, then breached
    ticket = make_case(contact, priority=Priority.LOW).ticket
    frozen(later(minutes=10))
    change_status(ticket.pk, agent, Ticket.Status.PENDING)
    frozen(later(hours=2, minutes=10))
    change_status(ticket.pk, agent, Ticket.Status.OPEN)
    frozen(later(hours=2, minutes=30))
    change_priority(ticket.pk, agent, Priority.HIGH)
    frozen(later(hours=3, minutes=5))
    sweep()

    html = signed_in(agent).get(f"/desk/cases/{ticket.pk}/").content.decode()

    # Then the timeline has every step with the numbers to redo the sum
    text = page_text(html)
    assert "Started Mon 2 Mar 2026, 09:00: Premium plan, Low (Minor), target 2d." in text
    assert "Counted around the clock (24/7)" in text
    assert "Paused at Mon 2 Mar 2026, 09:10: waiting on the customer." in text
    assert ("the pause counted 2h of open time, so the due time moved from "
            "Wed 4 Mar 2026, 09:00 to Wed 4 Mar 2026, 11:00") in text
    assert ("Priority changed from Low (Minor) to High (Critical) at Mon 2 Mar 2026, 11:30: "
            "target 2d → 1h, counted again from the original start: due Wed 4 Mar 2026, "
            "11:00 → Mon 2 Mar 2026, 12:00.") in text
    assert "Breached: still not met at Mon 2 Mar 2026, 12:05." in text
    assert ("Target 1h + paused 2h = 3h of counted time after Mon 2 Mar 2026, 09:00 → due "
            "Mon 2 Mar 2026, 12:00.") in text
    # And the history has the SLA lines in words
    assert "SLA paused while waiting on the customer: first response" in text
    assert "SLA due times recomputed (the priority changed): first response target 2d → 1h" \
        in text


def test_the_timeline_names_the_closed_hours_and_holidays_it_skipped(
    agent: User, frozen: Any
) -> None:
    # Given Standard counts in a Dubai office calendar (Mon-Fri 08:00-17:00) with a
    # holiday on Tuesday 3 March 2026
    office = Calendar.objects.create(name="Dubai office", time_zone="Asia/Dubai",
                                     always_open=False)
    for day in range(5):
        WeeklyHours.objects.create(calendar=office, weekday=day, start=time(8), end=time(17))
    Holiday.objects.create(calendar=office, date=date(2026, 3, 3), name="Founders' Day")
    Plan.objects.filter(name="Standard").update(calendar=office)

    # When a Medium case (8 h) opens Monday 13:00 Dubai (09:00 UTC)
    ticket = make_case(make_contact(make_org(plan="Standard")),
                       priority=Priority.MEDIUM).ticket

    # Then it is due Wednesday 12:00 Dubai: 4 h on Monday, none on the holiday, 4 h on
    # Wednesday; and the timeline says what it skipped
    text = page_text(signed_in(agent).get(f"/desk/cases/{ticket.pk}/").content.decode())
    assert "Counted in the open hours of Dubai office (Asia/Dubai)." in text
    assert "Not counted: Mon 02 Mar 17:00 – Tue 03 Mar 00:00 (closed, 7h)" in text
    assert "Not counted: Tue 03 Mar 00:00 – Wed 04 Mar 00:00 (holiday, Founders' Day, 1d)" \
        in text
    assert "Open time from the start to the due time: 8h." in text
    assert "→ due Wed 4 Mar 2026, 08:00." in text  # in the agent's zone, UTC


def test_the_customer_sees_the_target_in_their_own_time_zone(
    premium_org: Organization, frozen: Any
) -> None:
    # Given a Dubai partner and a contact of theirs in Cairo
    premium_org.time_zone = "Asia/Dubai"
    premium_org.save()
    in_dubai = make_contact(premium_org)
    in_cairo = make_contact(premium_org, time_zone="Africa/Cairo")
    ticket = make_case(in_dubai, priority=Priority.MEDIUM).ticket  # due 13:00 UTC

    dubai_page = signed_in(in_dubai).get(f"/cases/{ticket.pk}/").content.decode()
    cairo_page = signed_in(in_cairo).get(f"/cases/{ticket.pk}/").content.decode()

    assert "First response due by 17:00 (your time)" in dubai_page
    assert "Times in <bdi>Asia/Dubai</bdi>" in dubai_page
    assert "First response due by 15:00 (your time)" in cairo_page


def test_the_customer_timeline_leaves_out_the_internal_alerts(
    contact: User, agent: User, frozen: Any
) -> None:
    ticket = make_case(contact).ticket
    frozen(later(minutes=50))
    sweep()
    frozen(later(hours=1, minutes=20))
    sweep()
    add_message(ticket.pk, agent, "Sorry, fixed now.", [])

    html = signed_in(contact).get(f"/cases/{ticket.pk}/").content.decode()

    assert "Met at Mon 2 Mar 2026, 10:20, 20m after the due time." in html
    assert "First response: answered at 10:20 (your time)" in html
    assert "Warning sent" not in html and "Breached" not in html


def test_the_confirmation_page_gives_the_due_time(db: Any, frozen: Any) -> None:
    # Given an anonymous visitor of a Dubai partner submitting a High case
    make_org("Gulf Net", plan="Premium", domains="gulfnet.example")
    Organization.objects.filter(name="Gulf Net").update(time_zone="Asia/Dubai")
    client = Client()
    response = client.post("/submit/", {
        "email": "noor@gulfnet.example", "full_name": "Noor Haddad",
        "subject": "Resolver down", "description": "Resolver 2 answers nothing.",
        "priority": "1", "category": str(Category.objects.values_list("pk", flat=True)[0]),
    })
    assert response.status_code == 303, response.content.decode()[:3000]

    page = client.get(response["Location"]).content.decode()

    # Then the page promises the time in their organization's zone
    assert "First response due by 14:00 (your time)" in page
    assert "Times in <bdi>Asia/Dubai</bdi>" in page
