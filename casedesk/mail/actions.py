"""Queueing outbound mail. Views and actions call these; the job in mail.jobs delivers."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.functional import Promise

from casedesk.accounts.models import User, language_for, normalize_email
from casedesk.core import rows
from casedesk.core.middleware import reader_zone
from casedesk.core.models import SiteConfiguration
from casedesk.mail.models import OutboundMail
from casedesk.mail.pieces import render_to_string


def support_address() -> str:
    """Where customers write to us: the Reply-To of everything we send."""
    return getattr(settings, "CASEDESK_SUPPORT_EMAIL", "") or settings.DEFAULT_FROM_EMAIL


def own_addresses() -> set[str]:
    """Every address of ours (the support address, the extra ones mail is accepted for,
    the From address), lower-cased: never a recipient, or we would mail ourselves."""
    extra = getattr(settings, "CASEDESK_SUPPORT_ADDRESSES", []) or []
    return {
        normalize_email(a)
        for a in [support_address(), settings.DEFAULT_FROM_EMAIL, *extra] if a.strip()
    }


def mail_cc(to: str, addresses: Iterable[str]) -> list[str]:
    """Who of `addresses` (a case's CC list) gets a copy of a mail to `to`: each once,
    never the To address, never one of ours, never one known to bounce."""
    excluded = {normalize_email(to), *own_addresses()}
    wanted = [
        a for a in dict.fromkeys(normalize_email(a) for a in addresses if a.strip())
        if a not in excluded
    ]
    if not wanted:
        return []
    # Stored lower-cased (normalize_email), so the lookup is exact and uses the index.
    bouncing = set(
        User.objects.filter(email__in=wanted).exclude(email_bouncing_at=None)
        .values_list("email", flat=True)
    )
    return [a for a in wanted if a not in bouncing]


def person_at(address: str) -> User | None:
    """The account at `address`, with its organization (their language and time zone)."""
    return (
        User.objects.select_related("organization")
        .filter(email=normalize_email(address)).first()
    )


@lru_cache(maxsize=128)
def html_template_for(template: str) -> str:
    """The HTML twin of a .txt mail template, or the generic one that shows the text.
    Kept per process, as the template loaders keep what they find: for a template without
    a twin (the invitation, which every new contact by email gets) the search of every
    template directory and its exception cost ~70 us per mail."""
    twin = template.removesuffix(".txt") + ".html"
    try:
        get_template(twin)
    except TemplateDoesNotExist:
        return "mail/text.html"
    return twin


def mail_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "casedesk.localhost"


def new_message_id() -> str:
    # Not email.utils.make_msgid: its randomness is the `random` module's, which anything
    # in the process may seed (hypothesis does, for every example), and two mails made in
    # one 10 ms tick then got one Message-ID, the second refused by the unique index. The
    # system's generator cannot be seeded; 96 random bits after the second keep the
    # header short enough never to be folded.
    return f"<{int(time.time())}.{secrets.token_hex(12)}@{mail_domain()}>"


def queue_mail(
    *,
    kind: str,
    to: str,
    subject: str | Promise,
    template: str,
    context: dict[str, Any],
    ticket: Any = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
    language: str | None = None,
    cc: Iterable[str] = (),
    reader: User | None = None,
) -> OutboundMail:
    """Render `template` (a .txt under templates/) and its HTML twin (the .html beside it,
    or mail/text.html showing the text, escaped) and store the message for delivery.

    Body, HTML and subject are rendered in `language` (a code of settings.LANGUAGES; by
    default the language of the person at `to`, casedesk.accounts.models.language_for),
    with times in that person's zone (never the zone of whoever's request caused the mail:
    an agent in Cairo answering must not send a customer in Dubai Cairo's times). `reader`
    is the person at `to` when the caller has them at hand, which saves looking them up.
    Pass the subject and any label in the context as lazy translations (gettext_lazy,
    format_lazy) so they are translated here, not in the caller's language. `cc` (a case's
    CC list) is filtered by mail_cc.

    Call inside the transaction of the change that causes the mail: the message is stored
    with it or not at all. The periodic delivery job (casedesk.mail.jobs) sends it once
    the change has committed.
    """
    known = {code for code, _name in settings.LANGUAGES}
    if language not in known:
        if reader is None:
            reader = person_at(to)
        language = language_for(reader)
    config = SiteConfiguration.current()
    full_context = {
        "base_url": settings.CASEDESK_BASE_URL,
        "company_name": config.company_name,
        "support_phone": config.support_phone,
        **context,
    }
    with translation.override(language), timezone.override(reader_zone(reader)):
        rendered_subject = str(subject)
        # Lazy translations in the reader's language once, not in each of the two
        # templates (and, from pieces, once for the shape and once for the text): a
        # lazy value renders as its text does.
        full_context = {
            name: str(value) if isinstance(value, Promise) else value
            for name, value in full_context.items()
        }
        body = render_to_string(template, full_context)
        # The text as a plain str: the .txt templates write values unescaped (autoescape
        # off, right for text) and render_to_string marks that safe, so an HTML part that
        # shows it (mail/text.html) would put a sender's name like "<img ...>" in as markup.
        html = render_to_string(
            html_template_for(template),
            {**full_context, "text": str.__str__(body), "subject": rendered_subject},
        )
    # rows.insert: every acknowledgement and reply writes one, and compiling the ORM's
    # INSERT cost more than running it.
    mail = rows.insert(OutboundMail(
        kind=kind,
        ticket=ticket,
        to=to,
        cc="\n".join(mail_cc(to, cc)),
        language=language,
        subject=rendered_subject,
        body_text=body,
        body_html=html,
        message_id=message_id or new_message_id(),
        headers=headers or {},
    ))
    return mail
