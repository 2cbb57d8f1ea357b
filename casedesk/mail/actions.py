"""Queueing outbound mail. Views and actions call these; the job in mail.jobs delivers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import make_msgid
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string

from casedesk.core.models import SiteConfiguration
from casedesk.mail.models import OutboundMail


def support_address() -> str:
    """Where customers write to us: the Reply-To of everything we send."""
    return getattr(settings, "CASEDESK_SUPPORT_EMAIL", "") or settings.DEFAULT_FROM_EMAIL


def html_template_for(template: str) -> str:
    """The HTML twin of a .txt mail template, or the generic one that shows the text."""
    twin = template.removesuffix(".txt") + ".html"
    try:
        get_template(twin)
    except TemplateDoesNotExist:
        return "mail/text.html"
    return twin


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
    """Render `template` (a .txt under templates/) and its HTML twin (the .html beside it,
    or mail/text.html showing the text, escaped) and store the message for delivery.

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
    html = render_to_string(
        html_template_for(template), {**full_context, "text": body, "subject": subject}
    )
    mail = OutboundMail.objects.create(
        kind=kind,
        ticket=ticket,
        to=to,
        subject=subject,
        body_text=body,
        body_html=html,
        message_id=message_id or new_message_id(),
        headers=headers or {},
    )
    return mail
