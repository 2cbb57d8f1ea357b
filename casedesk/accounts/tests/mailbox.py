"""Reading links out of delivered mail, as a person clicking them would."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

from django.conf import settings


def mail_to(messages: list[EmailMessage], address: str, subject_part: str) -> EmailMessage:
    """The one delivered message to `address` whose subject contains `subject_part`."""
    found = [m for m in messages if m["To"] == address and subject_part in m["Subject"]]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in messages]
    return found[0]


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The path of the link in `message` under `path_prefix`; it must be an absolute link
    on CASEDESK_BASE_URL, since the recipient clicks it from their mail program."""
    body = message.get_content()
    links = re.findall(r"https?://\S+", body)
    matching = [link for link in links if urlsplit(link).path.startswith(path_prefix)]
    assert len(matching) == 1, body
    assert matching[0].startswith(settings.CASEDESK_BASE_URL + "/"), matching[0]
    return urlsplit(matching[0]).path
