"""The admin of the matrix: a level's team, contacts and who is on shift; shifts; the
escalation history shown read-only."""

from __future__ import annotations

from datetime import time

import pytest
from django.core.exceptions import ValidationError

from casedesk.conftest import make_agent
from casedesk.escalation.actions import escalate
from casedesk.escalation.models import Escalation, Shift
from casedesk.escalation.tests.conftest import around_the_clock, level, signed_in
from casedesk.portal.tests.helpers import html

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    return signed_in(make_agent(full_name="Rania Admin", is_staff=True, is_superuser=True))


def test_a_level_page_shows_who_of_its_team_is_on_shift(admin_client, levels):
    lvl = level(2)
    lvl.team.add(
        around_the_clock(make_agent(full_name="Sami Senior", time_zone="Asia/Dubai")),
        make_agent(full_name="Hana Nights", time_zone="Mars/Olympus"),
    )

    page = html(admin_client.get(f"/admin/escalation/level/{lvl.pk}/change/"))

    assert "Sami Senior</strong>: on shift now · Asia/Dubai" in page
    assert "Hana Nights</strong>: off shift · Mars/Olympus (unknown: read as UTC)" in page
    assert "no shifts: never picked" in page


def test_a_level_without_a_team_says_escalations_will_wait(admin_client, levels):
    page = html(admin_client.get(f"/admin/escalation/level/{level(3).pk}/change/"))

    assert "Nobody: escalations to this level stay unassigned" in page


def test_extra_addresses_to_notify_must_be_addresses(levels):
    lvl = level(2)
    lvl.notify_emails = "oncall@casedesk.example\nnot-an-address\n"

    with pytest.raises(ValidationError, match="Not an email address: not-an-address"):
        lvl.full_clean()
    lvl.notify_emails = "oncall@casedesk.example\n  ops@casedesk.example "
    lvl.full_clean()
    assert lvl.notify_list() == [
        "seniors@casedesk.example", "oncall@casedesk.example", "ops@casedesk.example"]


def test_a_shift_is_added_in_the_admin(admin_client):
    agent = make_agent(time_zone="Africa/Cairo")

    response = admin_client.post("/admin/escalation/shift/add/", {
        "agent": agent.pk, "weekday": "3", "start": "20:00", "end": "08:00",
    })

    assert response.status_code == 302
    shift = Shift.objects.get()
    assert (shift.weekday, shift.start, shift.end) == (3, time(20), time(8))


def test_escalations_are_shown_but_never_edited(admin_client, levels, case, agent):
    escalate(case.pk, source="agent", reason="Outage", actor=agent)
    escalation = Escalation.objects.get()

    listing = admin_client.get("/admin/escalation/escalation/")
    page = admin_client.get(f"/admin/escalation/escalation/{escalation.pk}/change/")
    changed = admin_client.post(f"/admin/escalation/escalation/{escalation.pk}/change/",
                                {"reason": "Rewritten"})

    assert listing.status_code == 200 and "Outage" in html(page)
    assert changed.status_code == 403
    assert Escalation.objects.get().reason == "Outage"
    assert admin_client.get("/admin/escalation/escalation/add/").status_code == 403
