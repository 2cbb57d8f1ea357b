"""The portal's Escalate a Ticket widget: requests, rate limits and confirmation links.

A signed-in contact escalates a case they can see at once. An anonymous visitor cannot
prove who they are, so their request only mails a single-use link to the case's requester,
and the visitor always gets the same answer: whether the case exists or the address
matches is never revealed. Every request is stored (EscalationRequest), which is what the
rate limits count, so they hold across any number of web processes.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import User, hash_token, normalize_email
from casedesk.core.models import SiteConfiguration
from casedesk.mail.actions import queue_mail
from casedesk.mail.models import OutboundMail
from casedesk.tickets.access import cases_visible_to_contact
from casedesk.tickets.actions import case_subject
from casedesk.tickets.models import Ticket

from .actions import REASON_MAX, EscalationRefused, escalate
from .models import Escalation, EscalationRequest

RATE_WINDOW = timedelta(hours=1)


class NotYourCase(EscalationRefused):
    """No such case among the contact's: said the same way for a missing and a foreign one."""


class RateLimited(EscalationRefused):
    """Too many requests for this address or this case in the last hour."""


class LinkInvalid(Exception):
    """A confirmation link that cannot be used; the message says why, for the visitor."""

    def __init__(self, message: object, *, status: int) -> None:
        super().__init__(str(message))
        self.status = status


def link_hours() -> int:
    return int(settings.CASEDESK_ESCALATION_LINK_HOURS)


def over_limit(email: str, ticket: Ticket | None, now: datetime) -> bool:
    since = now - RATE_WINDOW
    by_email = EscalationRequest.objects.filter(email=email, created_at__gte=since).count()
    if by_email >= settings.CASEDESK_ESCALATION_LIMIT_PER_EMAIL:
        return True
    if ticket is None:
        return False
    # Only requests that named the case and its requester count for the case: a stranger
    # typing wrong addresses cannot lock the real requester out.
    by_case = EscalationRequest.objects.filter(ticket=ticket, created_at__gte=since).count()
    return by_case >= settings.CASEDESK_ESCALATION_LIMIT_PER_CASE


def too_many_message() -> str:
    phone = SiteConfiguration.current().support_phone
    if phone:
        return str(_("Too many escalation requests; call us on %(phone)s.") % {"phone": phone})
    return str(_("Too many escalation requests; please call us."))


def request_by_visitor(*, case_id: int, email: str, reason: str, ip: str | None) -> None:
    """An anonymous visitor's request. Returns nothing on purpose: the visitor's answer is
    the same whatever happened.

    When the case exists, is open or not, and `email` is its requester's, a confirmation
    link valid for CASEDESK_ESCALATION_LINK_HOURS is mailed to the requester. Over a rate
    limit nothing is stored or sent.
    """
    email = normalize_email(email)
    reason = reason.strip()[:REASON_MAX]
    now = timezone.now()
    with transaction.atomic():
        # Locking the matched case makes its limit exact when requests for it arrive at
        # once (the count and the insert happen under the lock). The per-address count of
        # unmatched requests can let one or two extra through in such a race; they send
        # nothing.
        ticket = (
            Ticket.objects.select_for_update(of=("self",)).select_related("requester")
            .filter(pk=case_id).first()
        )
        matched = ticket if ticket is not None and ticket.requester.email == email else None
        if over_limit(email, matched, now):
            return
        token = secrets.token_urlsafe(32) if matched else None
        EscalationRequest.objects.create(
            ticket=matched, case_id=case_id, email=email, reason=reason,
            token_hash=hash_token(token) if token else None, created_at=now,
            expires_at=now + timedelta(hours=link_hours()), ip=ip,
        )
        if matched is not None and token is not None:
            queue_confirmation(matched, token, reason)


def queue_confirmation(ticket: Ticket, token: str, reason: str) -> None:
    link = settings.CASEDESK_BASE_URL + reverse("escalation:confirm", args=[token])
    queue_mail(
        kind=OutboundMail.Kind.OTHER, ticket=ticket, to=ticket.requester.email,
        reader=ticket.requester,
        subject=format_lazy(_("{case}: confirm the escalation"), case=case_subject(ticket)),
        template="escalation/mail/confirm.txt",
        context={
            "ticket": ticket, "requester": ticket.requester, "link": link,
            "hours": link_hours(), "reason": reason,
        },
        headers={"Auto-Submitted": "auto-generated", "X-Casedesk-Case": str(ticket.pk)},
    )


def request_by_contact(
    contact: User, *, case_id: int, reason: str, ip: str | None
) -> Escalation:
    """A signed-in contact's request: escalates at once a case they can see.

    Raises NotYourCase (for a missing and a foreign case alike), RateLimited, or
    EscalationRefused from escalate. The request is stored before escalating, so refused
    attempts count towards the limits too.
    """
    reason = reason.strip()[:REASON_MAX]
    now = timezone.now()
    with transaction.atomic():
        ticket = cases_visible_to_contact(contact).filter(pk=case_id).first()
        if over_limit(contact.email, ticket, now):
            raise RateLimited(too_many_message())
        request = EscalationRequest.objects.create(
            ticket=ticket, case_id=case_id, email=contact.email, user=contact,
            reason=reason, created_at=now, expires_at=now, ip=ip,
        )
    if ticket is None:
        raise NotYourCase(
            _("We could not find case %(id)s among your cases. Check the Case ID in the "
              "email we sent when the case was opened.") % {"id": case_id}
        )
    escalation = escalate(ticket.pk, source=Escalation.Source.PORTAL, reason=reason,
                          actor=contact)
    EscalationRequest.objects.filter(pk=request.pk).update(used_at=escalation.created_at)
    return escalation


def find_request(token: str) -> EscalationRequest:
    """The request a confirmation link stands for, if it can still be used."""
    request = (
        EscalationRequest.objects.select_related("ticket", "ticket__requester")
        .filter(token_hash=hash_token(token), ticket__isnull=False).first()
        if token else None
    )
    if request is None or request.ticket is None:
        raise LinkInvalid(
            _("This link is not valid. Check that you opened the whole link from the email, "
              "or ask again from the portal's home page."), status=404,
        )
    if request.used_at is not None:
        raise LinkInvalid(
            _("This link has already been used: case %(id)s was escalated on %(date)s at "
              "%(time)s UTC. A link works once.") % {
                "id": request.ticket_id,
                "date": date_format(request.used_at.astimezone(UTC), "d M Y"),
                "time": f"{request.used_at.astimezone(UTC):%H:%M}",
            }, status=410,
        )
    if request.expires_at <= timezone.now():
        raise LinkInvalid(
            _("This link has expired (links work for %(hours)s hours). Ask again from "
              "the portal's home page, or call us.") % {"hours": link_hours()}, status=410,
        )
    return request


def confirm_request(token: str) -> Escalation:
    """Follow a confirmation link: escalate the case once, as its requester.

    The link is claimed with a conditional UPDATE in the escalation's own transaction:
    two clicks at once escalate once (the second finds it used), and a refused escalation
    (the case was closed meanwhile) rolls the claim back, so the link still works once the
    case can move.
    """
    with transaction.atomic():
        request = find_request(token)
        now = timezone.now()
        claimed = EscalationRequest.objects.filter(
            pk=request.pk, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if claimed != 1:
            raise LinkInvalid(
                _("This link has already been used. A link works once."), status=410
            )
        ticket = cast(Ticket, request.ticket)  # find_request returns matched requests only
        return escalate(
            ticket.pk, source=Escalation.Source.PORTAL, reason=request.reason,
            actor=ticket.requester,
        )
