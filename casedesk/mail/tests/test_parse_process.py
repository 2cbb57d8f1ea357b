"""Inbound mail parsed in the parse process while the worker ingests the previous chunk
(casedesk.mail.parse_process): the same outcome as parsing in the worker, a message whose
parse raises is quarantined alone, a killed parse process loses nothing, and the setting
turns it off. The parse process is shared by the tests (one spawn per session) unless a
test kills it."""

from __future__ import annotations

import logging
import os
import pickle
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from casedesk.mail import parse_process
from casedesk.mail.inbound_jobs import (
    TRANSACTION_MESSAGES,
    TRANSACTION_MESSAGES_POSTGRES,
    process_due,
)
from casedesk.mail.models import InboundMessage
from casedesk.mail.parse import parse_message
from casedesk.mail.tests import faulty_parse
from casedesk.mail.tests.test_autodetect import DSN_REPORT
from casedesk.mail.tests.test_inbound_queue import QUESTION, stored
from casedesk.tickets.models import Ticket

RICH = (
    b"Message-ID: <rich@example.org>\r\nIn-Reply-To: <q1@gulfnet.example>\r\n"
    b"References: <a@example.org> <q1@gulfnet.example>\r\n"
    b"From: =?utf-8?q?J=C3=B6rg?= <jorg@example.org>\r\nTo: support@casedesk.localhost\r\n"
    b"Cc: a@example.org, b@example.org\r\nReply-To: jorg.private@example.org\r\n"
    b"Date: Tue, 03 Mar 2026 09:10:00 +0300\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    b"Precedence: bulk\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="M"\r\n\r\n'
    b'--M\r\nContent-Type: multipart/alternative; boundary="A"\r\n\r\n'
    b"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n\r\n> quoted\r\n"
    b"--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello</p><script>x</script>\r\n"
    b"--A--\r\n--M\r\nContent-Type: image/png\r\n"
    b'Content-Disposition: attachment; filename="dot.png"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--M--\r\n"
)

def chunk_size() -> int:
    return (TRANSACTION_MESSAGES_POSTGRES if connection.vendor == "postgresql"
            else TRANSACTION_MESSAGES)


def new_case(n: int, extra: bytes = b"") -> bytes:
    return (f"Message-ID: <new{n}@example.org>\r\nFrom: Client {n} <client{n}@example.org>\r\n"
            f"To: support@casedesk.localhost\r\nSubject: Question {n}\r\n").encode() + extra + (
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nThe printer is offline.\r\n")


def reply(n: int) -> bytes:
    return (f"Message-ID: <re{n}@gulfnet.example>\r\nIn-Reply-To: <q1@gulfnet.example>\r\n"
            f"From: noor@gulfnet.example\r\nTo: support@casedesk.localhost\r\n"
            f"Subject: Re: DNS 2\r\n\r\nStill broken, try {n}.\r\n").encode()


def away(n: int) -> bytes:
    return (f"Message-ID: <ooo{n}@gulfnet.example>\r\nIn-Reply-To: <q1@gulfnet.example>\r\n"
            f"Auto-Submitted: auto-replied\r\nFrom: noor@gulfnet.example\r\n"
            f"Subject: Out of office\r\n\r\nBack on Monday.\r\n").encode()


def a_batch() -> tuple[Ticket, dict[int, str]]:
    """A case, then four chunks' worth of mail about it and new mail: each message's
    kind by its row's id."""
    first = stored(QUESTION)
    assert process_due() == {"processed": 1}
    first.refresh_from_db()
    assert first.ticket is not None
    kinds: dict[int, str] = {}
    for n in range(chunk_size() * 4 - 3):
        kind = ("new" if n % 3 == 0 else "away" if n % 7 == 0 else "reply")
        kinds[stored({"new": new_case, "away": away, "reply": reply}[kind](n)).pk] = kind
    return first.ticket, kinds


def in_the_second_chunk(raw: bytes, kinds: dict[int, str]) -> InboundMessage:
    """`raw` stored, and due with a_batch's second chunk: parsed in the parse process."""
    inbound = stored(raw)
    InboundMessage.objects.filter(pk=inbound.pk).update(
        next_attempt_at=InboundMessage.objects.get(pk=sorted(kinds)[chunk_size() + 1])
        .next_attempt_at)
    return inbound


def assert_handled(case: Ticket, kinds: dict[int, str], counts: dict[str, int]) -> None:
    """Each message as parsing in the worker handles it: a case per new mail, a reply on
    the case per reply, the out-of-office ignored."""
    expected = {"processed": sum(k != "away" for k in kinds.values()),
                "ignored": sum(k == "away" for k in kinds.values())}
    assert counts == expected
    rows = InboundMessage.objects.filter(pk__in=kinds).order_by("pk")
    for n, row in enumerate(rows):
        kind = kinds[row.pk]
        assert (row.status, row.result, row.error) == {
            "new": ("processed", "new_case", ""), "reply": ("processed", "reply", ""),
            "away": ("ignored", "ignored", ""),
        }[kind], (n, kind)
        if kind == "new":
            assert row.ticket is not None and row.ticket.subject.startswith("Question ")
        elif kind == "reply":
            assert row.ticket_id == case.pk
    assert Ticket.objects.count() == 1 + sum(k == "new" for k in kinds.values())
    assert case.messages.count() == 1 + sum(k == "reply" for k in kinds.values())


@pytest.fixture
def fresh_child() -> Iterator[None]:
    """A test that kills the parse process leaves the next one a working one."""
    yield
    parse_process.reset()


def running_child() -> int:
    """The parse process's id, started if it was not."""
    job = parse_process.submit([QUESTION])
    assert job is not None and len(parse_process.result(job)) == 1
    pid = parse_process.child_pid()
    assert pid is not None and pid != os.getpid()
    return pid


def alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_every_parsed_mail_survives_the_trip_from_the_parse_process() -> None:
    # Given messages using every field of ParsedMail (threading headers, an encoded name
    # and subject, a dated message, HTML, an attachment, a bounce, bulk, Reply-To) and bad
    # input
    for raw in [RICH, DSN_REPORT, QUESTION, b"", b"\x00\xff\xfe" * 100]:
        parsed = parse_message(raw)

        # When pickled, as the parse process sends it, it comes back equal
        assert pickle.loads(pickle.dumps(parsed)) == parsed
    assert parse_message(DSN_REPORT).bounce is not None
    assert parse_message(RICH).attachments and parse_message(RICH).date is not None


def test_a_batch_parsed_in_the_parse_process_is_handled_as_in_the_worker(
    db: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a case and four chunks of mail, some about it, some new, some automatic
    case, kinds = a_batch()

    # When the queue is drained with the parse process on (the default)
    with caplog.at_level(logging.WARNING, logger="casedesk.mail.parse_process"):
        counts = process_due()

    # Then every message is handled as parsing in the worker handles it, with the parse
    # process used, and never lost
    assert_handled(case, kinds, counts)
    pid = parse_process.child_pid()
    assert pid is not None and pid != os.getpid() and alive(pid)
    assert caplog.records == []


def test_with_the_setting_off_the_worker_parses(db: Any, settings: Any) -> None:
    # Given the parse process turned off, and no parse process running
    settings.CASEDESK_INBOUND_PARSE_PROCESS = False
    parse_process.shutdown()
    case, kinds = a_batch()

    # When the queue is drained, every message is handled the same, and no parse process
    # was started
    assert_handled(case, kinds, process_due())
    assert parse_process.child_pid() is None


def test_a_message_whose_parse_raises_in_the_parse_process_is_quarantined_alone(
    db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a parser that raises MemoryError on marked messages, and a batch whose second
    # chunk (parsed in the parse process) holds one
    monkeypatch.setattr(parse_process, "parser", faulty_parse.failing)
    case, kinds = a_batch()
    bad = in_the_second_chunk(new_case(999, faulty_parse.FAIL + b"\r\n"), kinds)
    pid = running_child()

    # When the queue is drained
    counts = process_due()

    # Then the marked message is quarantined with its error, raised in the parse process,
    # and the others are handled
    bad.refresh_from_db()
    assert bad.status == "quarantined" and bad.attempts == 1
    assert bad.error.startswith("MemoryError: test parse failure in process ")
    assert bad.error.splitlines()[0].endswith(f" {pid}")
    assert counts.pop("quarantined") == 1
    assert_handled(case, kinds, counts)


def test_the_parse_process_cannot_open_a_database_connection(
    db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a parser that opens a database connection on marked messages, and a batch
    # whose second chunk (parsed in the parse process) holds one
    monkeypatch.setattr(parse_process, "parser", faulty_parse.connecting)
    case, kinds = a_batch()
    bad = in_the_second_chunk(new_case(999, faulty_parse.CONNECT + b"\r\n"), kinds)
    running_child()

    # When the queue is drained, the parse process has no database to connect to: the
    # message is quarantined with that error, and the others are handled
    counts = process_due()
    bad.refresh_from_db()
    assert bad.status == "quarantined"
    assert bad.error.startswith("ImproperlyConfigured: settings.DATABASES is improperly")
    assert counts.pop("quarantined") == 1
    assert_handled(case, kinds, counts)


def test_a_killed_parse_process_loses_nothing(
    db: Any, fresh_child: None, caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a running parse process, killed between batches
    case, kinds = a_batch()
    pid = running_child()
    os.kill(pid, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.01)

    # When the queue is drained
    with caplog.at_level(logging.WARNING, logger="casedesk.mail.parse_process"):
        counts = process_due()

    # Then every message is handled, the loss logged once, and a new parse process parses
    assert_handled(case, kinds, counts)
    assert [r.getMessage()[:29] for r in caplog.records] == ["Inbound parse process lost (B"]
    again = parse_process.child_pid()
    assert again is not None and again != pid and alive(again)


def test_a_parse_process_killed_mid_chunk_loses_nothing(
    db: Any, fresh_child: None, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a batch whose second chunk holds a message that kills the parse process
    # parsing it (in the worker it parses)
    monkeypatch.setattr(parse_process, "parser", faulty_parse.dying)
    case, kinds = a_batch()
    victim = sorted(kinds)[chunk_size() + 1]
    assert kinds[victim] == "reply"
    InboundMessage.objects.filter(pk=victim).update(
        raw=faulty_parse.DIE + b"\r\n" + reply(victim))

    # When the queue is drained
    with caplog.at_level(logging.WARNING, logger="casedesk.mail.parse_process"):
        counts = process_due()

    # Then the chunk was parsed in the worker instead, and every message is handled
    assert_handled(case, kinds, counts)
    assert len(caplog.records) == 1 and "lost" in caplog.records[0].getMessage()
