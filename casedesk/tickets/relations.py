"""How cases relate: merging one into another, links between related cases, and the
addresses copied on a case's mail. Each function writes its Events in the change's own
transaction, like every action in casedesk.tickets.actions (whose helpers these use; the
names also import from there)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casedesk.accounts.models import User, normalize_email
from casedesk.mail.actions import queue_mail
from casedesk.mail.models import OutboundMail
from casedesk.search import index as search_index
from casedesk.sla import clocks as sla_clocks
from casedesk.tickets.access import cases_visible_to_contact
from casedesk.tickets.actions import (
    ActionError,
    _set_status,
    case_subject,
    lock_ticket,
    merged_cc,
    record,
    touch,
)
from casedesk.tickets.models import Attachment, CaseLink, Event, Message, Ticket


def lock_tickets(ticket_ids: Iterable[int]) -> dict[int, Ticket]:
    """The cases that exist among `ticket_ids`, locked until the caller's transaction ends.

    Rows are locked in Case ID order: two agents locking the same pair from either side
    (A into B, B into A) then queue up instead of deadlocking.
    """
    tickets = (
        # of=self: lock the cases only, not the requesters' rows joined in.
        Ticket.objects.select_for_update(of=("self",)).filter(pk__in=set(ticket_ids))
        .select_related("requester").order_by("pk")
    )
    return {ticket.pk: ticket for ticket in tickets}


def _agent_check(actor: User) -> None:
    if not actor.is_agent or not actor.is_active:
        raise ActionError(_("Only agents can change how cases relate to each other."))


SELF_REFUSALS = {
    "merged into": gettext_lazy("Case %(id)s cannot be merged into itself."),
    "linked with": gettext_lazy("Case %(id)s cannot be linked with itself."),
    "unlinked from": gettext_lazy("Case %(id)s cannot be unlinked from itself."),
}


def _lock_pair(first_id: int, second_id: int, what: str) -> tuple[Ticket, Ticket]:
    if first_id == second_id:
        raise ActionError(SELF_REFUSALS[what] % {"id": first_id})
    locked = lock_tickets([first_id, second_id])
    for wanted in (first_id, second_id):
        if wanted not in locked:
            raise ActionError(_("There is no case %(id)s.") % {"id": wanted})
    return locked[first_id], locked[second_id]


@dataclass(frozen=True)
class MergeResult:
    source: Ticket
    target: Ticket
    messages: int
    attachments: int
    cc_added: tuple[str, ...]
    # The cases linked with the source whose links now point at the target (a link to
    # the target itself, or to a case the target was already linked with, is dropped).
    links: tuple[int, ...] = ()
    # The cases that followed up the source and now follow up the target.
    follow_ups: tuple[int, ...] = ()


def check_merge(source: Ticket, target: Ticket) -> None:
    """Raise ActionError if `source` may not be merged into `target` (see merge_cases).
    merge_cases checks again under its locks; call this alone only to preview."""
    if source.pk == target.pk:
        raise ActionError(_("Case %(id)s cannot be merged into itself.") % {"id": source.pk})
    if source.merged_into_id is not None:
        raise ActionError(
            _("Case %(id)s was already merged into case %(into)s.")
            % {"id": source.pk, "into": source.merged_into_id}
        )
    if target.merged_into_id is not None:
        raise ActionError(
            _("Case %(id)s was itself merged into case %(into)s: merge into case %(into)s "
              "instead.") % {"id": target.pk, "into": target.merged_into_id}
        )
    if target.status == Ticket.Status.CLOSED:
        raise ActionError(
            _("Case %(id)s is closed: reopen it first, or merge it into case %(other)s "
              "instead.") % {"id": target.pk, "other": source.pk}
        )


def merge_cases(source_id: int, target_id: int, actor: User) -> MergeResult:
    """Merge case `source_id` into case `target_id`, all or nothing.

    The source's messages and attachments move to the target (rows re-pointed; stored
    files stay where they are), its CCs and its requester (when another person) join the
    target's CCs, it is closed with `merged_into` set and its SLA clocks stopped, both
    cases get an event, and both requesters are mailed once the change commits. The old
    Case ID keeps leading to the target (tickets.access.resolve_merged).

    The source's relations move too: its links to other cases become the target's (each
    other case once, never the target to itself; the other case's history says so), the
    cases that followed it up follow up the target, the cases merged into it earlier lead
    straight to the target (chains stay one hop), and the case it followed up is what the
    target follows up when the target followed up nothing (or the source itself).

    Refused with ActionError, changing nothing: a case into itself, a missing case, a
    source already merged, a target that was itself merged (the chain would close on
    itself or lead on), a closed target, and actors who are not agents.
    """
    _agent_check(actor)
    with transaction.atomic():
        source, target = _lock_pair(source_id, target_id, "merged into")
        check_merge(source, target)
        now = timezone.now()
        moved = Message.objects.filter(ticket=source).update(ticket=target)
        files = Attachment.objects.filter(ticket=source).update(ticket=target)
        added = [*source.cc_list()]
        if normalize_email(source.requester.email) != normalize_email(target.requester.email):
            added.append(source.requester.email)
        cc = merged_cc(target.cc_emails, added, target.requester.email)
        cc_added = tuple(a for a in cc.split() if a not in target.cc_list())
        links = _move_links(source, target, actor)
        follow_ups = _move_follow_ups(source, target)
        follows = target.related_to_id
        if follows is None or follows == source.pk:
            # What the source followed up, unless that is the target itself.
            follows = source.related_to_id if source.related_to_id != target.pk else None
        touch(
            target, cc_emails=cc, updated_at=now, related_to_id=follows,
            last_message_at=max(target.last_message_at, source.last_message_at),
        )
        record(
            target, Event.Kind.MERGED_FROM, actor, source=source.pk, subject=source.subject,
            messages=moved, attachments=files, cc_added=list(cc_added), links=list(links),
            follow_ups=list(follow_ups),
        )
        touch(source, merged_into=target, updated_at=now)
        event = record(
            source, Event.Kind.MERGED_INTO, actor, target=target.pk, subject=target.subject,
            messages=moved, attachments=files,
        )
        # Cancelled, not met: nobody answered on this case; the target's clocks go on.
        sla_clocks.on_merge(source, into=target.pk, at=event.created_at)
        _set_status(source, actor, Ticket.Status.CLOSED, reason="merged")
        queue_merge_mail(source, target)
        # The moved messages are found on the case they now belong to.
        search_index.case_changed(target)
        search_index.case_changed(source)
    return MergeResult(source, target, moved, files, cc_added, links, follow_ups)


def _move_links(source: Ticket, target: Ticket, actor: User) -> tuple[int, ...]:
    """Re-point the source's links at the target; returns the other cases now linked.

    The other cases are not locked: their rows do not change (a link is its own row, and
    the pair's unique constraint stops a concurrent link_cases from doubling one), only an
    event is added to their history."""
    links = list(CaseLink.objects.filter(Q(low=source) | Q(high=source)))
    if not links:
        return ()
    already = {
        link.other(target.pk)
        for link in CaseLink.objects.filter(Q(low=target) | Q(high=target))
    }
    CaseLink.objects.filter(pk__in=[link.pk for link in links]).delete()
    moved: list[int] = []
    for link in sorted(links, key=lambda link: link.other(source.pk)):
        other = link.other(source.pk)
        if other == target.pk or other in already:
            continue
        low, high = sorted((target.pk, other))
        CaseLink.objects.create(low_id=low, high_id=high, created_by_id=link.created_by_id,
                                created_at=link.created_at)
        already.add(other)
        moved.append(other)
    for other in moved:
        Event.objects.create(
            ticket_id=other, kind=Event.Kind.LINKED, actor=actor,
            data={"other": target.pk, "subject": target.subject, "merged_from": source.pk},
        )
    return tuple(moved)


def _move_follow_ups(source: Ticket, target: Ticket) -> tuple[int, ...]:
    """The cases that followed up the source, or were merged into it, now refer to the
    target (the target itself excepted: a case never follows up itself)."""
    following = list(
        Ticket.objects.filter(related_to=source).exclude(pk=target.pk)
        .values_list("pk", flat=True).order_by("pk")
    )
    Ticket.objects.filter(pk__in=following).update(related_to=target)
    # Merged into the source earlier: one hop to the surviving case, not a chain.
    Ticket.objects.filter(merged_into=source).update(merged_into=target)
    return tuple(following)


def queue_merge_mail(source: Ticket, target: Ticket) -> None:
    """Tell both requesters, once each (one mail when it is the same person)."""
    people = {normalize_email(target.requester.email): target.requester}
    people.setdefault(normalize_email(source.requester.email), source.requester)
    for address, person in people.items():
        # A link to the surviving case only for someone who may open it on the portal.
        may_open = person.is_agent or cases_visible_to_contact(person).filter(
            pk=target.pk
        ).exists()
        queue_mail(
            kind=OutboundMail.Kind.OTHER,
            ticket=target,
            to=address,
            subject=case_subject(target),
            template="tickets/mail/merged.txt",
            context={
                "source": source, "target": target, "person": person,
                "was_source": address == normalize_email(source.requester.email),
                "was_target": address == normalize_email(target.requester.email),
                "may_open": may_open,
            },
            headers={"X-Casedesk-Case": str(target.pk)},
        )


def link_cases(ticket_id: int, other_id: int, actor: User) -> CaseLink:
    """Link two related cases, both ways; an event on each."""
    _agent_check(actor)
    with transaction.atomic():
        ticket, other = _lock_pair(ticket_id, other_id, "linked with")
        low, high = sorted((ticket.pk, other.pk))
        if CaseLink.objects.filter(low_id=low, high_id=high).exists():
            raise ActionError(
                _("Cases %(id)s and %(other)s are already linked.")
                % {"id": ticket.pk, "other": other.pk}
            )
        link = CaseLink.objects.create(low_id=low, high_id=high, created_by=actor)
        for one, two in ((ticket, other), (other, ticket)):
            touch(one)
            record(one, Event.Kind.LINKED, actor, other=two.pk, subject=two.subject)
    return link


def unlink_cases(ticket_id: int, other_id: int, actor: User) -> None:
    _agent_check(actor)
    with transaction.atomic():
        ticket, other = _lock_pair(ticket_id, other_id, "unlinked from")
        low, high = sorted((ticket.pk, other.pk))
        deleted, _counts = CaseLink.objects.filter(low_id=low, high_id=high).delete()
        if not deleted:
            raise ActionError(
                _("Cases %(id)s and %(other)s are not linked.")
                % {"id": ticket.pk, "other": other.pk}
            )
        for one, two in ((ticket, other), (other, ticket)):
            touch(one)
            record(one, Event.Kind.UNLINKED, actor, other=two.pk, subject=two.subject)


def parse_addresses(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or lines, normalized, each once."""
    raw = text.replace(",", " ").replace(";", " ").split()
    return list(dict.fromkeys(normalize_email(a) for a in raw if a.strip()))


def add_cc(ticket_id: int, actor: User, text: str) -> list[str]:
    """Copy more addresses on the case's mail. Every address must be valid, or none is
    added; the requester and addresses already copied are refused with a reason."""
    addresses = parse_addresses(text)
    if not addresses:
        raise ActionError(_("Type at least one email address to copy."))
    bad = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ActionError(
            _("Not a valid email address: %(addresses)s. Nothing was added.")
            % {"addresses": ", ".join(bad)}
        )
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        requester = normalize_email(ticket.requester.email)
        if requester in addresses:
            raise ActionError(
                _("%(address)s is the requester and gets every reply already. "
                  "Nothing was added.") % {"address": requester}
            )
        already = [a for a in addresses if a in ticket.cc_list()]
        if already:
            raise ActionError(
                _("Already copied: %(addresses)s. Nothing was added.")
                % {"addresses": ", ".join(already)}
            )
        touch(ticket, cc_emails=merged_cc(ticket.cc_emails, addresses, requester))
        record(ticket, Event.Kind.CC_ADDED, actor, addresses=addresses)
    return addresses


def remove_cc(ticket_id: int, actor: User, address: str) -> None:
    address = normalize_email(address)
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        current = ticket.cc_list()
        if address not in current:
            raise ActionError(
                _("%(address)s is not copied on this case.")
                % {"address": address or _("That address")}
            )
        touch(ticket, cc_emails="\n".join(a for a in current if a != address))
        record(ticket, Event.Kind.CC_REMOVED, actor, addresses=[address])
