"""Merge and a case's relations: the links and follow-ups of a merged case move to the
surviving one (never doubled, never a case linked with itself), a merged case's status is
frozen (agent, bulk and customer paths), and the relation actions still import from
casedesk.tickets.actions since they moved to casedesk.tickets.relations."""

from __future__ import annotations

from typing import Any

import pytest

from casedesk.accounts.models import User
from casedesk.conftest import make_case
from casedesk.desk.bulk import BulkRefused, apply_bulk
from casedesk.mail.models import OutboundMail
from casedesk.sla.models import Clock
from casedesk.tickets import actions, relations
from casedesk.tickets.actions import (
    ActionError,
    change_status,
    close_by_contact,
    reopen_by_contact,
)
from casedesk.tickets.models import CaseLink, Event, Message, Ticket
from casedesk.tickets.relations import link_cases, merge_cases

pytestmark = pytest.mark.django_db


def links_of(ticket: Ticket) -> list[int]:
    return sorted(link.other(ticket.pk) for link in CaseLink.objects.all()
                  if ticket.pk in (link.low_id, link.high_id))


def snapshot() -> Any:
    """Everything a merge or a status change could touch, in the whole database."""
    return (
        list(Ticket.objects.order_by("pk").values()),
        list(CaseLink.objects.order_by("pk").values()),
        list(Message.objects.order_by("pk").values("pk", "ticket_id")),
        Event.objects.count(),
        OutboundMail.objects.count(),
        list(Clock.objects.order_by("pk").values()),
    )


def cases(contact: User, n: int) -> list[Ticket]:
    return [make_case(contact, subject=f"Case number {i}").ticket for i in range(n)]


def test_the_merged_cases_links_move_to_the_survivor_once_and_never_to_itself(
    contact: User, agent: User
) -> None:
    # Given a source linked with x, y and the target, and a target already linked with y
    source, target, x, y = cases(contact, 4)
    for other in (x, y, target):
        link_cases(source.pk, other.pk, agent)
    link_cases(target.pk, y.pk, agent)

    result = merge_cases(source.pk, target.pk, agent)

    # Then the target is linked with x and y, once each, and not with itself
    assert links_of(target) == sorted([x.pk, y.pk])
    assert not CaseLink.objects.filter(low=target, high=target).exists()
    assert CaseLink.objects.filter(low_id=min(target.pk, y.pk),
                                   high_id=max(target.pk, y.pk)).count() == 1
    # And the merged case keeps no link of its own
    assert links_of(source) == []
    assert result.links == (x.pk,)
    # And x's history says it is now linked with the survivor, and why
    event = Event.objects.filter(ticket=x, kind=Event.Kind.LINKED).latest("pk")
    assert event.data["other"] == target.pk and event.data["merged_from"] == source.pk
    merged_from = Event.objects.get(ticket=target, kind=Event.Kind.MERGED_FROM)
    assert merged_from.data["links"] == [x.pk]


def test_a_link_between_the_two_merged_cases_disappears(contact: User, agent: User) -> None:
    source, target = cases(contact, 2)
    link_cases(target.pk, source.pk, agent)

    merge_cases(source.pk, target.pk, agent)

    assert CaseLink.objects.count() == 0


def test_follow_ups_and_earlier_merges_lead_to_the_survivor(contact: User, agent: User) -> None:
    # Given: older <- source (source followed up older), f1 and the target follow up the
    # source, and a case merged into the source earlier
    older, source, target, f1, earlier = cases(contact, 5)
    Ticket.objects.filter(pk=source.pk).update(related_to=older)
    Ticket.objects.filter(pk__in=[f1.pk, target.pk]).update(related_to=source)
    merge_cases(earlier.pk, source.pk, agent)

    result = merge_cases(source.pk, target.pk, agent)

    # Then f1 follows up the survivor
    f1.refresh_from_db()
    assert f1.related_to_id == target.pk
    assert result.follow_ups == (f1.pk,)
    # And the survivor, which followed up the source, now follows up what the source did
    target.refresh_from_db()
    assert target.related_to_id == older.pk
    # And the case merged into the source earlier leads straight to the survivor
    earlier.refresh_from_db()
    assert earlier.merged_into_id == target.pk
    # And no case follows up or is merged into itself
    assert not Ticket.objects.filter(related_to=source).exists()
    assert not Ticket.objects.filter(pk=target.pk, related_to=target).exists()


def test_the_survivor_keeps_its_own_earlier_case(contact: User, agent: User) -> None:
    mine, theirs, source, target = cases(contact, 4)
    Ticket.objects.filter(pk=source.pk).update(related_to=theirs)
    Ticket.objects.filter(pk=target.pk).update(related_to=mine)

    merge_cases(source.pk, target.pk, agent)

    target.refresh_from_db()
    assert target.related_to_id == mine.pk


def test_a_source_that_followed_up_the_survivor_leaves_no_self_reference(
    contact: User, agent: User
) -> None:
    target, source = cases(contact, 2)
    Ticket.objects.filter(pk=source.pk).update(related_to=target)

    merge_cases(source.pk, target.pk, agent)

    target.refresh_from_db()
    assert target.related_to_id is None


# ------------------------------------------------------------------ bad input


def test_merging_into_itself_or_into_a_closed_chain_says_why_and_changes_nothing(
    contact: User, agent: User
) -> None:
    # Given cases with links and follow-ups, a chain b -> c where c is closed afterwards
    a, b, c, x, f = cases(contact, 5)
    link_cases(a.pk, x.pk, agent)
    Ticket.objects.filter(pk=f.pk).update(related_to=a)
    merge_cases(b.pk, c.pk, agent)
    change_status(c.pk, agent, Ticket.Status.CLOSED)
    before = snapshot()

    refusals = {
        (a.pk, a.pk): f"Case {a.pk} cannot be merged into itself.",
        # b was merged into c: the agent is told where the chain leads...
        (a.pk, b.pk): f"Case {b.pk} was itself merged into case {c.pk}: merge into case "
                      f"{c.pk} instead.",
        # ...and the end of the chain is closed
        (a.pk, c.pk): f"Case {c.pk} is closed: reopen it first",
        (0, a.pk): "There is no case 0.",
    }
    for (source, target), message in refusals.items():
        with pytest.raises(ActionError) as refused:
            merge_cases(source, target, agent)
        assert str(refused.value).startswith(message)

    assert snapshot() == before


def test_a_merged_cases_status_cannot_change(contact: User, agent: User) -> None:
    source, target = cases(contact, 2)
    merge_cases(source.pk, target.pk, agent)
    before = snapshot()
    expected = (f"Case {source.pk} was merged into case {target.pk}: its status cannot "
                f"change. Work on case {target.pk} instead.")

    # When an agent reopens it, sets it pending, or resolves it
    for status in (Ticket.Status.OPEN, Ticket.Status.PENDING, Ticket.Status.RESOLVED):
        with pytest.raises(ActionError) as refused:
            change_status(source.pk, agent, status)
        assert str(refused.value) == expected
    # And the requester tries to reopen or close it from the portal
    for action in (reopen_by_contact, close_by_contact):
        with pytest.raises(ActionError) as refused:
            action(source.pk, contact)
        assert str(refused.value) == expected

    # Then nothing changed
    assert snapshot() == before
    source.refresh_from_db()
    assert source.status == Ticket.Status.CLOSED


def test_a_bulk_status_change_including_a_merged_case_changes_none(
    contact: User, agent: User
) -> None:
    source, target, other = cases(contact, 3)
    merge_cases(source.pk, target.pk, agent)
    before = snapshot()

    with pytest.raises(BulkRefused) as refused:
        apply_bulk(agent, [other.pk, source.pk], "status", status=Ticket.Status.PENDING)

    assert f"was merged into case {target.pk}" in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert snapshot() == before


def test_the_survivor_still_changes_status(contact: User, agent: User) -> None:
    source, target = cases(contact, 2)
    merge_cases(source.pk, target.pk, agent)

    change_status(target.pk, agent, Ticket.Status.PENDING)

    target.refresh_from_db()
    assert target.status == Ticket.Status.PENDING


# ------------------------------------------------------------------ the move


def test_the_relation_actions_still_import_from_tickets_actions() -> None:
    for name in ("merge_cases", "check_merge", "link_cases", "unlink_cases", "add_cc",
                 "remove_cc", "lock_tickets", "parse_addresses", "MergeResult",
                 "queue_merge_mail"):
        assert getattr(actions, name) is getattr(relations, name)
    with pytest.raises(AttributeError):
        actions.no_such_action  # type: ignore[attr-defined]  # noqa: B018
