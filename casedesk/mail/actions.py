"""Queueing outbound mail. Views and actions call these; the job in mail.jobs delivers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import make_msgid
from django.template.loader import render_to_string

from casedesk.core.models import SiteConfiguration
from casedesk.mail.models import OutboundMail


def mail_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "casedesk.localhost"


def new_message_id() -> str:
    return make_msgid(domain=mail_domain())


def queue_mail(
    *,
    kind: str,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    ticket: Any = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> OutboundMail:
    """Render `template` (a .txt under templates/) and store the message for delivery.

    Call inside the transaction of the change that causes the mail: the message is stored
    with it or not at all. The periodic delivery job (casedesk.mail.jobs) sends it once
    the change has committed.
    """
    config = SiteConfiguration.current()
    full_context = {
        "base_url": settings.CASEDESK_BASE_URL,
        "company_name": config.company_name,
        "support_phone": config.support_phone,
        **context,
    }
    body = render_to_string(template, full_context)
    mail = OutboundMail.objects.create(
        kind=kind,
        ticket=ticket,
        to=to,
        subject=subject,
        body_text=body,
        message_id=message_id or new_message_id(),
        headers=headers or {},
    )
    return mail
