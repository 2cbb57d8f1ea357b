"""The case page's thread written in Python (casedesk.desk.thread) is the HTML the
template wrote: internal notes, fresh messages, email channels, whole emails, inline and
downloaded files, markup in names and bodies, in English and Arabic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import engines
from django.utils import translation

from casedesk.conftest import make_case, png_upload
from casedesk.core.downloads import INLINE_IMAGE_TYPES
from casedesk.core.files import check_upload
from casedesk.desk.thread import thread_html
from casedesk.tickets.actions import MailHeaders, add_message
from casedesk.tickets.models import Message

# desk/case.html's loop over the thread before it moved to casedesk.desk.thread.
TEMPLATE = "{% load i18n desk_tags %}" + (Path(__file__).parent / "thread_template.html"
                                           ).read_text(encoding="utf-8")


def spaced(html: str) -> str:
    """Line breaks and indentation between tags do not show; everything else must match."""
    return re.sub(r"\n\s*", "\n", html).strip()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_thread_is_the_html_the_template_wrote(agent, language: str) -> None:
    ticket = make_case(full_name='Ann <b>"O\'Neil"</b>').ticket
    add_message(ticket.pk, agent, "A <script> & reply", [check_upload(png_upload())])
    add_message(ticket.pk, agent, "Internal & secret", [], internal=True)
    text = SimpleUploadedFile("notes.txt", b"plain text", content_type="text/plain")
    add_message(ticket.pk, ticket.requester, "By mail", [check_upload(text)],
                channel="email", mail=MailHeaders(full_body="> quoted <mail>"))
    thread = list(Message.objects.filter(ticket=ticket).select_related("author")
                  .prefetch_related("attachments").order_by("created_at", "pk"))
    for message in thread:
        message.files = list(message.attachments.all())  # type: ignore[attr-defined]
    fresh = {thread[1].pk}
    with translation.override(language):
        theirs = engines["django"].from_string(TEMPLATE).render({
            "thread": thread, "ticket": ticket, "fresh": fresh,
            "inline_types": INLINE_IMAGE_TYPES})
        ours = str(thread_html(thread, ticket.pk, fresh, INLINE_IMAGE_TYPES))
    assert "<img src=" in ours and " download>" in ours and "whole-email" in ours
    assert spaced(ours) == spaced(theirs)
