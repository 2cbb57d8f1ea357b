"""`casedesk mail-import PATH`: an .eml file, an mbox and a Maildir (made with the standard
library's mailbox module), stored like mail received over SMTP, each message once."""

from __future__ import annotations

import hashlib
import mailbox
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from casedesk.mail.intake import store_raw
from casedesk.mail.models import InboundMessage


def raw(n: int, message_id: str | None = None) -> bytes:
    header = f"Message-ID: {message_id or f'<m{n}@customer.example>'}\n"
    return (
        f"{header}From: Customer {n} <c{n}@customer.example>\nTo: support@casedesk.localhost\n"
        f"Subject: Question {n}\n\nBody {n}\n"
    ).encode()


def run_import(path: Path) -> str:
    out = StringIO()
    call_command("mail-import", str(path), stdout=out)
    return out.getvalue().strip()


def test_an_eml_file_is_stored_once(db: Any, tmp_path: Path) -> None:
    # Given an .eml file saved from a mail client
    path = tmp_path / "question.eml"
    path.write_bytes(raw(1))

    # When it is imported, and imported again
    first = run_import(path)
    second = run_import(path)

    # Then it is stored once, as imported, and the second run says it was a duplicate
    assert first == "1 stored, 0 duplicate(s), 0 error(s)."
    assert second == "0 stored, 1 duplicate(s), 0 error(s)."
    [inbound] = InboundMessage.objects.all()
    assert bytes(inbound.raw) == raw(1)
    assert (inbound.source, inbound.status) == ("import", "received")
    assert inbound.subject == "Question 1"


def test_an_mbox_is_imported_message_by_message(db: Any, tmp_path: Path) -> None:
    # Given an mbox of three messages, one of them already received by SMTP
    call_command("mail-import", str(write_eml(tmp_path, raw(2))), stdout=StringIO())
    box = mailbox.mbox(tmp_path / "archive.mbox")
    for n in (1, 2, 3):
        box.add(raw(n))
    box.close()

    # When it is imported
    summary = run_import(tmp_path / "archive.mbox")

    # Then the two new ones are stored, without the mbox's "From " separator lines
    assert summary == "2 stored, 1 duplicate(s), 0 error(s)."
    assert sorted(InboundMessage.objects.values_list("subject", flat=True)) == [
        "Question 1", "Question 2", "Question 3",
    ]
    stored = InboundMessage.objects.get(message_id="<m3@customer.example>")
    assert bytes(stored.raw).startswith(b"Message-ID: <m3@customer.example>")


def test_a_maildir_is_imported_from_new_and_cur(db: Any, tmp_path: Path) -> None:
    # Given a Maildir with an unread and a read message
    box = mailbox.Maildir(tmp_path / "Maildir")
    box.add(raw(1))
    read = mailbox.MaildirMessage(raw(2))
    read.set_subdir("cur")
    read.add_flag("S")
    box.add(read)
    box.close()

    # When it is imported
    summary = run_import(tmp_path / "Maildir")

    # Then both are stored
    assert summary == "2 stored, 0 duplicate(s), 0 error(s)."
    assert InboundMessage.objects.filter(source="import").count() == 2


def test_a_path_that_is_not_mail_is_refused_with_a_reason(db: Any, tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    for path, message in [
        (tmp_path / "missing.mbox", "does not exist"),
        (tmp_path / "photos", "is a folder but not a Maildir"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("mail-import", str(path), stdout=StringIO())
    assert InboundMessage.objects.count() == 0


def write_eml(folder: Path, data: bytes) -> Path:
    path = folder / "single.eml"
    path.write_bytes(data)
    return path


HEADER_LINES = st.lists(
    st.sampled_from([
        b"Message-ID: <x@y>", b"Message-ID:", b"Message-ID: no brackets here",
        b"Message-ID: <" + b"a" * 400 + b"@long>", b"Subject: =?utf-8?B?!!!?=",
        b"Subject: =?x-unknown?Q?caf=E9?=", b"From: \xff\xfe <bad@>", b"\tfolded",
        b"no colon at all", b"Subject: " + b"x" * 5000,
    ]),
    max_size=6,
)


@hsettings(max_examples=60, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(headers=HEADER_LINES, separator=st.sampled_from([b"\r\n", b"\n", b"\r"]),
       body=st.binary(max_size=200))
def test_any_bytes_are_stored_whole_or_recognised_as_a_duplicate(
    db: Any, headers: list[bytes], separator: bytes, body: bytes
) -> None:
    # Given any message, however malformed its headers
    raw = separator.join([*headers, b"", body])

    # When it is stored, it never fails, and what is kept is what arrived
    result = store_raw(raw, source=InboundMessage.Source.IMPORT)
    if result.created:
        assert bytes(result.inbound.raw) == raw
    else:
        assert result.inbound.message_id or result.inbound.sha256 == hashlib.sha256(raw).hexdigest()
    assert len(result.inbound.message_id) <= 255
