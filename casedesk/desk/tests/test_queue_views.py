"""The queue's views and their counts, every filter (and unknown values for each), cursors
that were tampered with or made for other filters, and saved views."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.desk import counts, queue
from casedesk.desk.models import SavedView
from casedesk.desk.tests.conftest import signed_in
from casedesk.desk.tests.test_queue import listed, open_case, page_links
from casedesk.escalation.actions import escalate
from casedesk.escalation.models import Escalation, Level
from casedesk.sla.models import Plan
from casedesk.tickets.models import Category, Ticket

URL = "/desk/"


@pytest.fixture
def desk(contact, agent, other_agent):
    """Cases of every kind a view picks out, oldest first.

    `agent` is on the level 2 team, `other_agent` on level 1's."""
    Level.objects.get(number=2).team.add(agent)
    Level.objects.get(number=1).team.add(other_agent)
    elsewhere = make_contact(make_org("Desert Telecom", plan="Standard"))
    cases = {
        "mine_high": open_case(contact, "Resolver down", priority=Priority.HIGH,
                               status="open", assignee=agent),
        "theirs_low": open_case(contact, "Slow reports", priority=Priority.LOW,
                                status="open", assignee=other_agent),
        "unassigned_low": open_case(elsewhere, "Question on plans", priority=Priority.LOW),
        "pending": open_case(contact, "Waiting on logs", status="pending", assignee=agent),
        "escalated": open_case(elsewhere, "Outage in Cairo", priority=Priority.LOW),
        "closed": open_case(contact, "Old thing", status="closed", assignee=agent),
    }
    escalate(cases["escalated"].pk, source=Escalation.Source.AGENT, reason="Needs L2",
             actor=agent, to_level=2)
    return cases


def ids(cases, *names) -> list[int]:
    return [cases[name].pk for name in names]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("mine", ["pending", "mine_high"]),
        ("unassigned", ["escalated", "unassigned_low"]),
        # Level 2 (the agent's team): the escalated case, and every open case of a level 2
        # member (the agent's own).
        ("team", ["escalated", "pending", "mine_high"]),
        # Premium High: first response due in 1 hour; the Low cases are due in days, the
        # pending one is paused.
        ("breaching", ["mine_high"]),
        ("escalated", ["escalated"]),
        ("pending", ["pending"]),
        ("open", ["escalated", "pending", "unassigned_low", "theirs_low", "mine_high"]),
        ("all", ["closed", "escalated", "pending", "unassigned_low", "theirs_low",
                 "mine_high"]),
    ],
)
def test_each_view_lists_its_cases(agent_client, desk, view, expected):
    response = agent_client.get(URL, {"view": view})

    assert listed(response) == ids(desk, *expected)
    assert f"<h1>{queue.VIEWS[view]}</h1>" in response.content.decode()


def test_my_team_for_an_agent_on_no_team_is_empty(desk):
    response = signed_in(make_agent()).get(URL, {"view": "team"})

    assert listed(response) == []


def test_breaching_soon_lists_overdue_first_and_leaves_out_later_targets(
    agent_client, desk, contact, time_machine
):
    time_machine.move_to(timezone.now() + timedelta(minutes=30))
    later = open_case(contact, "Another outage", priority=Priority.HIGH)
    time_machine.move_to(timezone.now() + timedelta(minutes=45))

    response = agent_client.get(URL, {"view": "breaching"})

    assert listed(response) == [desk["mine_high"].pk, later.pk]
    html = response.content.decode()
    assert "overdue by 15m" in html


def test_views_show_their_counts(agent_client, desk):
    html = agent_client.get(URL).content.decode()

    def count(view: str) -> str:
        found = re.search(
            rf'href="\?view={view}"[^>]*>\s*<span>[^<]+</span><span class="count"[^>]*>([^<]+)<',
            html,
        )
        assert found, view
        return found.group(1)

    assert {v: count(v) for v in ("mine", "unassigned", "team", "breaching", "escalated",
                                  "pending", "open")} == {
        "mine": "2", "unassigned": "2", "team": "3", "breaching": "1", "escalated": "1",
        "pending": "1", "open": "5",
    }


def test_counts_stop_at_the_cap(agent_client, desk, monkeypatch):
    monkeypatch.setattr(counts, "COUNT_CAP", 3)

    html = agent_client.get(URL).content.decode()

    assert re.search(r'href="\?view=open"[^>]*>\s*<span>All open</span><span class="count"'
                     r'[^>]*>3\+<', html)
    assert re.search(r'href="\?view=mine"[^>]*>\s*<span>My cases</span><span class="count"'
                     r'[^>]*>2<', html)


def test_filters_by_plan_category_team_level_and_channel(agent_client, desk, agent):
    other_category = Category.objects.create(name="Billing")
    Ticket.objects.filter(pk=desk["theirs_low"].pk).update(
        category=other_category, channel=Ticket.Channel.EMAIL
    )
    premium = Plan.objects.get(name="Premium")
    standard = Plan.objects.get(name="Standard")

    def get(**params):
        return listed(agent_client.get(URL, {k: str(v) for k, v in params.items()}))

    assert get(plan=premium.pk) == ids(desk, "pending", "theirs_low", "mine_high")
    assert get(plan=standard.pk) == ids(desk, "escalated", "unassigned_low")
    assert get(category=other_category.pk) == ids(desk, "theirs_low")
    assert get(channel="email") == ids(desk, "theirs_low")
    assert get(team=2) == ids(desk, "pending", "mine_high")
    assert get(team=1) == ids(desk, "theirs_low")
    assert get(level=2) == ids(desk, "escalated")
    assert get(level=1, priority=Priority.LOW) == ids(desk, "unassigned_low", "theirs_low")
    assert get(view="all", status="closed", assignee=agent.pk) == ids(desk, "closed")


def test_the_default_plan_covers_cases_without_an_organization(agent_client, desk):
    loner = make_contact(None, email="solo@example.net")
    theirs = make_case(loner, subject="No organization").ticket
    standard = Plan.objects.get(name="Standard")
    assert standard.is_default

    response = agent_client.get(URL, {"plan": standard.pk})

    assert listed(response) == [theirs.pk, *ids(desk, "escalated", "unassigned_low")]


def test_created_and_updated_ranges(agent_client, contact, time_machine):
    time_machine.move_to("2026-03-10 12:00:00+00:00")
    march = open_case(contact, "March case")
    time_machine.move_to("2026-05-20 12:00:00+00:00")
    may = open_case(contact, "May case")
    time_machine.move_to("2026-06-02 12:00:00+00:00")
    open_case(contact, "Touched in June")
    from casedesk.tickets.actions import change_priority

    change_priority(march.pk, contact, Priority.LOW)

    def get(**params):
        return listed(agent_client.get(URL, params))

    assert get(created_from="2026-03-01", created_to="2026-03-31") == [march.pk]
    assert get(created_to="2026-05-20") == [may.pk, march.pk]
    assert get(created_from="2026-05-20", created_to="2026-05-20") == [may.pk]
    assert get(updated_from="2026-06-01", created_to="2026-05-31") == [march.pk]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("plan", "999", "Select a valid choice"), ("category", "x", "Select a valid choice"),
     ("team", "9", "Select a valid choice"), ("level", "0", "Select a valid choice"),
     ("channel", "fax", "Select a valid choice"), ("status", "bogus", "Select a valid choice"),
     ("created_from", "last tuesday", "Enter a date as YYYY-MM-DD."),
     ("updated_to", "2026-02-30", "Enter a date as YYYY-MM-DD.")],
)
def test_an_unknown_filter_value_is_shown_beside_its_filter(
    agent_client, desk, field, value, message
):
    response = agent_client.get(URL, {field: value})

    html = response.content.decode()
    assert response.status_code == 200
    assert listed(response) == []
    error = re.search(rf'id="id_{field}"[^\n]*\n?\s*(?:[^\n]*\n)?\s*<p class="error" '
                      rf'role="alert">([^<]+)<', html)
    assert error, html[html.find(f'id="id_{field}"') - 200:][:600]
    assert message in error.group(1)
    assert "Fix the filters above to see cases." in html


def test_a_range_that_ends_before_it_starts_is_refused(agent_client, desk):
    response = agent_client.get(URL, {"created_from": "2026-05-02", "created_to": "2026-05-01"})

    html = response.content.decode()
    assert listed(response) == []
    assert "The end of the range is before its start (2026-05-02)." in html


# ---------------------------------------------------------------- cursors


def test_a_tampered_cursor_shows_the_first_page_and_says_so(agent_client, desk, monkeypatch):
    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    first = agent_client.get(URL)
    link = page_links(first)["next"]
    cursor = link.split("cursor=")[1]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")

    response = agent_client.get(URL, {"cursor": tampered})
    garbage = agent_client.get(URL, {"cursor": "not-a-cursor" * 100})

    assert listed(response) == listed(first)
    assert "That page link is damaged or incomplete" in response.content.decode()
    assert listed(garbage) == listed(first)
    assert "That page link is damaged or incomplete" in garbage.content.decode()


def test_a_cursor_made_for_other_filters_starts_again(agent_client, desk, monkeypatch):
    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    first = agent_client.get(URL, {"sort": "priority"})
    cursor = page_links(first)["next"].split("cursor=")[1]

    response = agent_client.get(URL + f"?view=open&sort=newest&cursor={cursor}")

    assert listed(response) == ids(desk, "escalated", "pending")
    assert "That page link was made for other filters" in response.content.decode()


def test_breaching_soon_pages_by_due_time(agent_client, contact, monkeypatch):
    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    made = [open_case(contact, f"Outage {n}", priority=Priority.HIGH) for n in range(5)]

    first = agent_client.get(URL, {"view": "breaching"})
    second = agent_client.get(URL + page_links(first)["next"])
    third = agent_client.get(URL + page_links(second)["next"])
    back = agent_client.get(URL + page_links(third)["prev"])

    assert listed(first) + listed(second) + listed(third) == [t.pk for t in made]
    assert listed(back) == listed(second)


# ---------------------------------------------------------------- saved views


def save(client, name, shared=False, **filters):
    data = {"name": name, "view": "open", "sort": "newest", **filters}
    if shared:
        data["shared"] = "on"
    return client.post(reverse("desk:saved_view_create"), data)


def test_an_agent_saves_lists_and_applies_a_view(agent_client, agent, desk):
    response = save(agent_client, "Low, level 1", priority=str(Priority.LOW), level="1")

    saved = SavedView.objects.get(owner=agent)
    assert response.status_code == 303
    assert response["Location"] == f"/desk/?saved={saved.pk}"
    assert saved.params == {"view": "open", "sort": "newest", "priority": str(Priority.LOW),
                            "level": "1"}
    page = agent_client.get(response["Location"])
    assert listed(page) == ids(desk, "unassigned_low", "theirs_low")
    html = page.content.decode()
    assert "<h1>Low, level 1</h1>" in html
    assert re.search(rf'href="\?saved={saved.pk}" aria-current="page">\s*<span>Low, level 1'
                     r'</span><span class="count"[^>]*>2<', html)
    assert "Saved the view “Low, level 1”." in html


def test_another_agents_personal_view_is_invisible(agent, other_agent, desk):
    mine = save(signed_in(agent), "My secret view", priority="4")
    view = SavedView.objects.get(owner=agent)
    theirs = signed_in(other_agent)

    page = theirs.get(URL)
    applied = theirs.get(mine["Location"])
    renamed = theirs.post(reverse("desk:saved_view_rename", args=[view.pk]), {"name": "Gotcha"})
    deleted = theirs.post(reverse("desk:saved_view_delete", args=[view.pk]))

    assert "My secret view" not in page.content.decode()
    assert "My secret view" not in applied.content.decode()
    assert "That saved view does not exist (any more), or is another agent" in \
        applied.content.decode()
    assert listed(applied) == listed(page)
    assert renamed.status_code == 404 and deleted.status_code == 404
    assert SavedView.objects.get(pk=view.pk).name == "My secret view"


def test_a_shared_view_shows_for_every_agent_but_only_its_owner_changes_it(
    agent, other_agent, desk
):
    save(signed_in(agent), "Team backlog", shared=True, level="1")
    view = SavedView.objects.get(owner=agent)
    theirs = signed_in(other_agent)

    html = theirs.get(URL).content.decode()
    applied = theirs.get(URL, {"saved": view.pk})
    deleted = theirs.post(reverse("desk:saved_view_delete", args=[view.pk]))

    assert "Team backlog" in html and "shared by Sam Agent" in html
    assert listed(applied) == ids(desk, "pending", "unassigned_low", "theirs_low", "mine_high")
    assert "Rename or delete this view" not in applied.content.decode()
    assert deleted.status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_an_agent_renames_and_deletes_their_view(agent_client, agent, desk):
    save(agent_client, "Old name", priority="4")
    view = SavedView.objects.get(owner=agent)

    renamed = agent_client.post(reverse("desk:saved_view_rename", args=[view.pk]),
                                {"name": "New name", "shared": "on"})
    view.refresh_from_db()
    deleted = agent_client.post(reverse("desk:saved_view_delete", args=[view.pk]))

    assert renamed.status_code == 303 and (view.name, view.shared) == ("New name", True)
    assert deleted.status_code == 303
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert "Deleted the view “New name”." in agent_client.get(URL).content.decode()


def test_saving_a_taken_name_or_bad_filters_saves_nothing(agent_client, agent, desk):
    save(agent_client, "Mine", priority="4")

    twice = save(agent_client, "Mine", priority="1")
    bad = save(agent_client, "Broken", organization="999999")
    nameless = save(agent_client, "  ", priority="1")

    assert SavedView.objects.filter(owner=agent).count() == 1
    assert SavedView.objects.get(owner=agent).params["priority"] == "4"
    assert all(r.status_code == 303 for r in (twice, bad, nameless))
    html = agent_client.get(URL).content.decode()
    assert "You already have a view named “Mine”; choose another name." in html
    assert "The view was not saved: fix the filters first." in html
    assert "The view was not saved: Give the view a name." in html


def test_a_contact_cannot_save_views(contact_client):
    response = save(contact_client, "Sneaky")

    assert response.status_code == 404
    assert not SavedView.objects.exists()
