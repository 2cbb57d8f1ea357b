"""escalate(): where a case goes, who gets it, who is told, what is recorded, and every
refusal (which changes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine

from casedesk.conftest import make_agent, make_case, make_contact
from casedesk.escalation.actions import EscalationRefused, escalate
from casedesk.escalation.models import Escalation, Level, Shift
from casedesk.escalation.tests.conftest import around_the_clock, level, text, to
from casedesk.mail.models import OutboundMail
from casedesk.tickets.actions import assign, change_status
from casedesk.tickets.models import Event, Ticket

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def state() -> dict[str, Any]:
    """Everything an escalation could leave behind."""
    return {
        "tickets": list(Ticket.objects.values_list("pk", "escalation_level", "assignee_id")),
        "escalations": Escalation.objects.count(),
        "events": Event.objects.count(),
        "mails": OutboundMail.objects.count(),
    }


def test_the_four_default_levels_of_the_process():
    assert list(Level.objects.order_by("number").values_list("number", "name")) == [
        (1, "Support Engineer"),
        (2, "Senior Support Engineer"),
        (3, "Support Manager"),
        (4, "Head of Support"),
    ]


# -- moving up, and who gets the case -------------------------------------------------------


def test_escalating_moves_the_case_up_one_level_to_the_on_shift_agent(levels, case, contact):
    # Given level 2's team: one agent on shift, one who never works
    senior = around_the_clock(make_agent(full_name="Sami Senior"))
    level(2).team.add(senior, make_agent(full_name="Never Working"))

    # When the customer escalates from the portal
    escalation = escalate(case.pk, source="portal", reason="No answer for 3 hours",
                          actor=contact)

    # Then the case is at level 2, with the agent on shift
    case.refresh_from_db()
    assert case.escalation_level == 2
    assert case.assignee == senior
    assert (escalation.from_level, escalation.to_level) == (1, 2)
    assert escalation.source == "portal" and escalation.actor == contact
    assert escalation.assigned_to == senior and not escalation.nobody_on_shift
    # And the history says so: an assignment by the escalation and the escalation itself
    escalated = Event.objects.get(ticket=case, kind=Event.Kind.ESCALATED)
    assert escalated.actor == contact
    assert escalated.data == {
        "from": 1, "to": 2, "source": "portal", "reason": "No answer for 3 hours",
        "assigned_to": senior.email, "nobody_on_shift": False, "escalation": escalation.pk,
    }
    assigned = Event.objects.get(ticket=case, kind=Event.Kind.ASSIGNEE)
    assert assigned.data == {"old": None, "new": senior.email, "reason": "escalation"}


def test_among_agents_on_shift_the_one_with_fewest_open_cases_gets_it(levels, contact):
    # Given three agents on shift at level 2: busy (2 open cases), light (1 open, 3 closed)
    # and idle-but-off-shift (0)
    busy = around_the_clock(make_agent(full_name="Busy"))
    light = around_the_clock(make_agent(full_name="Light"))
    idle_off = make_agent(full_name="Idle but off shift")
    level(2).team.add(busy, light, idle_off)
    for _ in range(2):
        assign(make_case(contact).ticket.pk, busy, busy)
    assign(make_case(contact).ticket.pk, light, light)
    for _ in range(3):
        done = make_case(contact).ticket
        assign(done.pk, light, light)
        change_status(done.pk, light, "closed")
    case = make_case(contact, subject="Needs a senior").ticket

    # When it is escalated
    escalation = escalate(case.pk, source="agent", reason="Needs a senior", actor=busy)

    # Then the lighter agent on shift gets it: closed cases and off-shift agents do not count
    assert escalation.assigned_to == light


def test_who_is_on_shift_is_decided_at_the_moment_of_escalation(levels, contact):
    # Given level 2: a London agent on Saturday nights 22:00-06:00 and a Dubai agent on
    # Sundays 12:00-17:00 (08:00-13:00 UTC); London's clocks go back at 02:00 BST on
    # Sunday 25 October 2026, so that night shift ends at 06:00 GMT = 06:00 UTC
    night = make_agent(full_name="Night London", time_zone="Europe/London")
    Shift.objects.create(agent=night, weekday=5, start=time(22), end=time(6))
    day = make_agent(full_name="Day Dubai", time_zone="Asia/Dubai")
    Shift.objects.create(agent=day, weekday=6, start=time(12), end=time(17))
    level(2).team.add(night, day)
    picked = {}
    for at in ("05:30", "06:30", "09:00"):
        moment = datetime.fromisoformat(f"2026-10-25T{at}+00:00")
        with time_machine.travel(moment, tick=False):
            case = make_case(contact).ticket
            picked[at] = escalate(case.pk, source="portal", reason="x", actor=contact)

    # Then at 05:30 UTC, in the hour the clocks gave back, the London agent still works;
    # at 06:30 UTC nobody does; at 09:00 UTC (13:00 in Dubai) the Dubai agent does
    assert picked["05:30"].assigned_to == night
    assert picked["06:30"].assigned_to is None and picked["06:30"].nobody_on_shift
    assert picked["09:00"].assigned_to == day


def test_equal_loads_go_to_the_earlier_agent(levels, case, contact):
    first = around_the_clock(make_agent(full_name="Zed First"))
    second = around_the_clock(make_agent(full_name="Abe Second"))
    level(2).team.add(second, first)

    escalation = escalate(case.pk, source="portal", reason="Slow", actor=contact)

    assert escalation.assigned_to == first


def test_an_inactive_agent_is_never_picked(levels, case, contact):
    gone = around_the_clock(make_agent(full_name="Gone", is_active=False))
    level(2).team.add(gone)

    escalation = escalate(case.pk, source="portal", reason="Slow", actor=contact)

    assert escalation.assigned_to is None and escalation.nobody_on_shift


@pytest.mark.parametrize("team", ["off shift", "empty"])
def test_with_nobody_on_shift_the_case_waits_unassigned_and_the_contacts_are_alerted(
    levels, case, contact, agent, new_mail, team
):
    # Given a case assigned at level 1, and level 2's team off shift or empty
    assign(case.pk, agent, agent)
    if team == "off shift":
        level(2).team.add(make_agent(full_name="Off Shift"))
    new_mail()

    # When it is escalated
    escalation = escalate(case.pk, source="portal", reason="Urgent", actor=contact)

    # Then it is at level 2, unassigned: the team takes it from the queue
    case.refresh_from_db()
    assert case.escalation_level == 2 and case.assignee is None
    assert escalation.nobody_on_shift and escalation.assigned_to is None
    assert Event.objects.filter(ticket=case, kind=Event.Kind.ASSIGNEE).last().data == {
        "old": agent.email, "new": None, "reason": "escalation",
    }
    assert Event.objects.get(ticket=case, kind=Event.Kind.ESCALATED).data["nobody_on_shift"]
    # And level 2's contact is alerted loudly
    alert = to(new_mail(), "seniors@casedesk.example")
    assert len(alert) == 1
    assert "NOBODY ON SHIFT" in str(alert[0]["Subject"])
    assert text(alert[0]).startswith("NOBODY ON SHIFT at level 2 (Senior Support Engineer)")


# -- who is told ----------------------------------------------------------------------------


def test_the_levels_contacts_and_the_assignee_get_the_case_who_why_and_where(
    levels, case, contact, new_mail
):
    # Given level 2 with an email, two more addresses to notify, and an agent on shift
    senior = around_the_clock(make_agent(full_name="Sami Senior", email="sami@casedesk.example"))
    lvl = level(2)
    lvl.team.add(senior)
    lvl.notify_emails = "oncall@casedesk.example\nSENIORS@casedesk.example\n"
    lvl.save()
    new_mail()

    # When the customer escalates
    escalate(case.pk, source="portal", reason="Resolver 2 still unfiltered", actor=contact)

    # Then the level's email (once, whatever its case), the extra address and the assignee
    # each get one message
    sent = new_mail()
    for address in ("seniors@casedesk.example", "oncall@casedesk.example",
                     "sami@casedesk.example"):
        mails = to(sent, address)
        assert len(mails) == 1, address
        body = text(mails[0])
        assert mails[0]["Subject"] == (
            f"[Case #{case.pk}] Escalated to level 2 (Senior Support Engineer)"
        )
        assert f"/desk/cases/{case.pk}/" in body
        assert "Resolver 2 still unfiltered" in body
        assert "Source:       Portal widget" in body
        assert "Noor Haddad <noor@gulfnet.example>, the requester" in body
        assert "Assigned to:  Sami Senior <sami@casedesk.example>" in body


def test_each_person_told_reads_the_time_in_their_own_zone(levels, case, contact, new_mail):
    from django.utils import timezone

    # Given the senior on shift reads times in Cairo, and the escalating customer's request
    # runs in Dubai's zone (what the web request activated for them)
    senior = around_the_clock(make_agent(full_name="Sami Senior", email="sami@casedesk.example",
                                         time_zone="Africa/Cairo"))
    level(2).team.add(senior)
    new_mail()

    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False), \
            timezone.override("Asia/Dubai"):
        escalate(case.pk, source="portal", reason="No answer", actor=contact)

    # Then the senior's mail says 12:00 in Cairo, not 14:00 in Dubai; the level's shared
    # address (no account) reads the site's zone
    assert "2 Mar 2026, 12:00 EET" in text(to(new_mail(), "sami@casedesk.example")[0])


def test_the_customer_is_told_the_new_level_and_its_contact(levels, case, contact, new_mail):
    new_mail()

    escalate(case.pk, source="portal", reason="No answer", actor=contact)

    mails = to(new_mail(), contact.email)
    assert len(mails) == 1
    assert mails[0]["Subject"] == f"[Case #{case.pk}] {case.subject}"
    assert mails[0]["In-Reply-To"]  # threads under the acknowledgement
    body = text(mails[0])
    assert f"Your case {case.pk} has been escalated to Senior Support Engineer (level 2)" in body
    assert "Sami Youssef" in body and "+971 4 555 0142" in body


def test_a_phone_escalation_records_the_caller_and_tells_the_level(
    levels, case, agent, new_mail
):
    new_mail()

    escalation = escalate(
        case.pk, source="phone", reason="Caller says all schools are blocked", actor=agent,
        caller_name="Omar Khalil", caller_phone="+971 50 555 0199",
    )

    assert (escalation.caller_name, escalation.caller_phone) == ("Omar Khalil",
                                                                  "+971 50 555 0199")
    body = text(to(new_mail(), "seniors@casedesk.example")[0])
    assert "Source:       Phone call" in body
    assert "Omar Khalil (+971 50 555 0199) by phone, logged by Sam Agent" in body


def test_an_agent_may_send_a_case_to_any_level_and_back_down(levels, case, agent, new_mail):
    new_mail()
    # When an agent sends it straight to level 4
    escalate(case.pk, source="agent", reason="Outage for all partners", actor=agent,
             to_level=4)
    assert Ticket.objects.get(pk=case.pk).escalation_level == 4
    assert len(to(new_mail(), "noor@gulfnet.example")) == 1

    # And then back to level 2
    down = escalate(case.pk, source="agent", reason="Handled; seniors follow up",
                    actor=agent, to_level=2)

    # Then the case is at level 2; the seniors hear of it, the customer does not
    assert Ticket.objects.get(pk=case.pk).escalation_level == 2
    assert not down.is_up
    sent = new_mail()
    assert len(to(sent, "seniors@casedesk.example")) == 1
    assert not to(sent, "noor@gulfnet.example")


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "word"), [("closed", "closed"), ("resolved", "resolved")]
)
def test_a_closed_or_resolved_case_is_not_escalated(levels, case, agent, status, word):
    change_status(case.pk, agent, status)
    before = state()

    with pytest.raises(EscalationRefused) as refused:
        escalate(case.pk, source="portal", reason="Please", actor=case.requester)

    assert str(refused.value) == f"Case {case.pk} is {word}; reopen it or open a new case."
    assert state() == before


def test_a_second_escalation_within_the_cool_down_says_when_the_first_was(
    levels, contact
):
    with time_machine.travel(NOON, tick=False) as traveller:
        case = make_case(contact).ticket
        escalate(case.pk, source="portal", reason="Slow", actor=contact)
        traveller.move_to(NOON + timedelta(minutes=29))
        before = state()

        with pytest.raises(EscalationRefused) as refused:
            escalate(case.pk, source="phone", reason="Still slow", actor=make_agent(),
                     caller_name="Noor")

        assert str(refused.value) == (
            f"Case {case.pk} was already escalated at 12:00 UTC to level 2 "
            "(Senior Support Engineer). It can be escalated again from 12:30 UTC."
        )
        assert state() == before

        # When the cool-down is over, it goes up again
        traveller.move_to(NOON + timedelta(minutes=30))
        assert escalate(case.pk, source="portal", reason="Slow", actor=contact).to_level == 3


def test_the_cool_down_is_a_setting(levels, contact, settings):
    settings.CASEDESK_ESCALATION_COOLDOWN_MINUTES = 5
    with time_machine.travel(NOON, tick=False) as traveller:
        case = make_case(contact).ticket
        escalate(case.pk, source="portal", reason="Slow", actor=contact)
        traveller.move_to(NOON + timedelta(minutes=5))

        assert escalate(case.pk, source="portal", reason="Slow", actor=contact).to_level == 3


def test_the_cool_down_message_gives_the_date_when_it_was_not_today(levels, contact, settings):
    settings.CASEDESK_ESCALATION_COOLDOWN_MINUTES = 48 * 60
    with time_machine.travel(NOON, tick=False) as traveller:
        case = make_case(contact).ticket
        escalate(case.pk, source="portal", reason="Slow", actor=contact)
        traveller.move_to(NOON + timedelta(days=1))

        with pytest.raises(EscalationRefused, match="at 12:00 UTC on 9 Mar 2026 to level 2"):
            escalate(case.pk, source="portal", reason="Slow", actor=contact)


def test_an_agent_choosing_a_level_and_an_sla_breach_skip_the_cool_down(levels, contact, agent):
    with time_machine.travel(NOON, tick=False):
        case = make_case(contact).ticket
        escalate(case.pk, source="portal", reason="Slow", actor=contact)

        assert escalate(case.pk, source="sla", reason="First response breached").to_level == 3
        assert escalate(case.pk, source="agent", reason="Outage", actor=agent,
                        to_level=4).to_level == 4


def test_the_top_level_cannot_go_higher(levels, case, agent):
    escalate(case.pk, source="agent", reason="Outage", actor=agent, to_level=4)
    before = state()

    with pytest.raises(EscalationRefused) as refused:
        escalate(case.pk, source="sla", reason="Resolution breached")

    assert str(refused.value) == (
        f"Case {case.pk} is already at the top level, 4 (Head of Support)."
    )
    assert state() == before


@pytest.mark.parametrize(
    ("to_level", "message"),
    [(7, "There is no escalation level 7."), (1, "is already at level 1 (Support Engineer).")],
)
def test_an_agent_cannot_choose_a_missing_level_or_the_current_one(
    levels, case, agent, to_level, message
):
    before = state()

    with pytest.raises(EscalationRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        escalate(case.pk, source="agent", reason="Outage", actor=agent, to_level=to_level)

    assert state() == before


@pytest.mark.parametrize("who", ["contact", "nobody", "inactive agent"])
def test_only_agents_choose_the_level(levels, case, contact, who):
    actor = {"contact": contact, "nobody": None,
             "inactive agent": make_agent(is_active=False)}[who]
    before = state()

    with pytest.raises(EscalationRefused, match="Only agents can choose the level"):
        escalate(case.pk, source="portal", reason="Now", actor=actor, to_level=4)

    assert state() == before


def test_a_missing_case_an_empty_reason_and_an_unknown_source_are_refused(levels, case, agent):
    before = state()

    with pytest.raises(EscalationRefused, match="There is no case 999999"):
        escalate(999999, source="agent", reason="Outage", actor=agent)
    with pytest.raises(EscalationRefused, match="Say why"):
        escalate(case.pk, source="agent", reason="  \n ", actor=agent)
    with pytest.raises(EscalationRefused, match="not a source"):
        escalate(case.pk, source="email", reason="Outage", actor=agent)

    assert state() == before


def test_a_customer_of_another_case_is_named_as_a_contact_not_the_requester(
    levels, case, org, new_mail
):
    colleague = make_contact(org, full_name="Omar Colleague")
    new_mail()

    escalate(case.pk, source="portal", reason="Affects us all", actor=colleague)

    body = text(to(new_mail(), "seniors@casedesk.example")[0])
    assert f"Omar Colleague <{colleague.email}>, contact" in body
