"""Small helpers shared by the portal's tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from casedesk.accounts.models import User
from casedesk.mail.models import OutboundMail
from casedesk.tickets.models import Attachment, Event, Message, Ticket

# Not a real program: just the first bytes of a Windows and of a Linux executable.
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 44
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def html(response: HttpResponse) -> str:
    return response.content.decode()


def field_html(response: HttpResponse, name: str) -> str:
    """The markup of one form field (label, widget, errors), as core/field.html renders it."""
    text = html(response)
    start = text.index(f'id="field-{name}"')
    following = text.find('id="field-', start + 1)
    return text[start:following if following != -1 else len(text)]


def without_csrf(response: HttpResponse) -> str:
    """The page with its per-response CSRF tokens blanked, to compare two pages."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html(response))


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def snapshot() -> dict[str, Any]:
    """Everything a submission or reply could leave behind."""
    return {
        "tickets": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
        "events": Event.objects.count(),
        "mails": OutboundMail.objects.count(),
        "users": User.objects.count(),
        "files": len(stored_files()),
    }
