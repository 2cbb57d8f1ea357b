"""`casedesk demo`: the demo installation, made through the real actions, safe to repeat."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.test import Client

from casedesk.accounts.models import Organization, User
from casedesk.core.management.commands.demo import (
    CASES,
    DEMO_ADMIN_PASSWORD,
    DEMO_AGENT_PASSWORD,
    DEMO_CONTACT_PASSWORD,
    PEOPLE,
)
from casedesk.core.models import SiteConfiguration
from casedesk.escalation.actions import pick_agent
from casedesk.escalation.models import Level
from casedesk.mail.models import OutboundMail
from casedesk.tickets.models import Attachment, Event, Message, Ticket


def run_demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, Any]:
    """Everything the demo touches, in a form two runs can be compared by."""
    return {
        "site": list(SiteConfiguration.objects.values()),
        "levels": list(Level.objects.order_by("number").values()),
        "orgs": list(Organization.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values()),
        "tickets": list(Ticket.objects.order_by("pk").values()),
        "messages": list(Message.objects.order_by("pk").values()),
        "events": list(Event.objects.order_by("pk").values()),
        "attachments": list(Attachment.objects.order_by("pk").values()),
        "mail": list(OutboundMail.objects.order_by("pk").values()),
    }


def test_demo_sets_up_the_site_partners_people_and_cases(db: Any, settings: Any) -> None:
    # When the demo is loaded into an empty installation
    output = run_demo()

    # Then the portal shows Kidzonet's name, phone and an escalation contact per level
    config = SiteConfiguration.current()
    assert (config.company_name, config.support_phone) == ("Kidzonet", "+44 808 175 0480")
    for level in Level.objects.all():
        assert level.contact_name and level.email and level.phone, level

    # And partners have their plans, domains and visibility
    gulfnet = Organization.objects.get(name="Gulfnet Telecom")
    atlas = Organization.objects.get(name="Atlas Broadband")
    assert (str(gulfnet.plan), gulfnet.domain_list(), gulfnet.org_wide_visibility) == (
        "Premium", ["gulfnet.example"], True
    )
    assert (str(atlas.plan), atlas.domain_list(), atlas.org_wide_visibility) == (
        "Standard", ["atlasbb.example"], False
    )
    assert not User.objects.get(email="lina@atlasbb.example").sees_organization_cases()
    assert User.objects.get(email="karim@atlasbb.example").sees_organization_cases()

    # And the admin is an agent with the admin site
    admin = User.objects.get(email="admin@casedesk.example")
    assert admin.is_agent and admin.is_staff and admin.is_superuser
    assert User.objects.filter(role="agent").count() == 3

    # And the cases went through the actions: each has its history, and mail is queued
    tickets = Ticket.objects.all()
    assert tickets.count() == len(CASES) == 15
    assert set(tickets.values_list("status", flat=True)) == {
        "new", "open", "pending", "on_hold", "resolved", "closed",
    }
    for ticket in tickets:
        kinds = list(ticket.events.values_list("kind", flat=True))
        assert kinds[0] == "created", ticket
        assert ticket.outbound_mail.filter(kind="ack").count() == 1
    assert Event.objects.filter(kind="assignee").exists()
    assert Message.objects.filter(kind="internal").exists()
    assert OutboundMail.objects.filter(kind="reply").exists()
    assert OutboundMail.objects.filter(kind="invitation", to="yusuf@desertisp.example").exists()
    assert Attachment.objects.filter(content_type="image/png").exists()
    assert Ticket.objects.filter(assignee__isnull=False).exists()

    # And the sign-ins are printed, with the address to open
    assert f"{settings.CASEDESK_BASE_URL}/accounts/signin/" in output
    for person in PEOPLE:
        assert person.email in output and person.password in output


def test_the_printed_sign_ins_work_and_pass_the_password_rules(db: Any) -> None:
    # Given the demo
    run_demo()

    for person in PEOPLE:
        user = User.objects.get(email=person.email)
        # Then each printed password is a good one by casedesk's own rules
        validate_password(person.password, user)
        # And signs that person in
        assert Client().login(username=person.email, password=person.password), person.email
    assert {p.password for p in PEOPLE} == {
        DEMO_ADMIN_PASSWORD, DEMO_AGENT_PASSWORD, DEMO_CONTACT_PASSWORD,
    }


def test_running_the_demo_again_changes_nothing(db: Any) -> None:
    # Given the demo, loaded once
    run_demo()
    before = snapshot()

    # When it is run again
    output = run_demo()

    # Then nothing was added or changed, and it says so
    assert snapshot() == before
    assert "0 case(s) created, 15 already there" in output


def test_the_demo_never_undoes_what_an_admin_changed(db: Any) -> None:
    # Given the demo, after which an admin renamed the company and a contact's password
    # was changed
    run_demo()
    config = SiteConfiguration.objects.get()
    config.company_name = "Acme Filtering"
    config.save()
    noor = User.objects.get(email="noor@gulfnet.example")
    noor.set_password("a-new-private-passphrase")
    noor.save()

    # When the demo is run again
    run_demo()

    # Then both changes stand
    assert SiteConfiguration.objects.get().company_name == "Acme Filtering"
    assert User.objects.get(email="noor@gulfnet.example").check_password(
        "a-new-private-passphrase"
    )


def test_a_demo_stopped_halfway_is_completed_by_the_next_run(db: Any) -> None:
    # Given a demo run that stopped after its first cases (simulated: the later ones gone)
    run_demo()
    last_five = list(Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:5])
    OutboundMail.objects.filter(ticket__in=last_five).delete()
    Ticket.objects.filter(pk__in=last_five).delete()

    # When the demo is run again
    output = run_demo()

    # Then only the missing cases are made, with new Case IDs
    assert "5 case(s) created, 10 already there" in output
    assert Ticket.objects.count() == 15
    assert min(Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:5]) > max(last_five)


@pytest.mark.parametrize("hour", [0, 5, 6, 12, 17, 18, 23])
def test_the_demo_matrix_has_an_engineer_on_shift_at_level_one_around_the_clock(
    db: Any, hour: int
) -> None:
    # Given the demo's teams and shifts (Sami by day, Hana by night, Dubai time)
    run_demo()
    level_one = Level.objects.get(number=1)

    # When a case is escalated to level 1 at any hour of a Friday (the weekend there)
    at = datetime(2026, 11, 27, hour, 30, tzinfo=ZoneInfo("Asia/Dubai"))

    # Then an engineer of the team is on shift to take it
    assert pick_agent(level_one, at) is not None


def test_the_demo_matrix_leaves_level_three_uncovered_at_the_weekend(db: Any) -> None:
    run_demo()
    friday_noon = datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("Asia/Dubai"))
    assert pick_agent(Level.objects.get(number=3), friday_noon) is None
    sunday_noon = datetime(2026, 11, 29, 12, tzinfo=ZoneInfo("Asia/Dubai"))
    assert pick_agent(Level.objects.get(number=3), sunday_noon) is not None
