"""The mail listener in real SMTP and LMTP conversations (smtplib against aiosmtpd on a
free local port): what it accepts is in the database before the 250, what it refuses is
refused with a reason and leaves nothing behind."""

from __future__ import annotations

import smtplib
import subprocess
import threading
from collections.abc import Iterator

import pytest
from django.db import connection

from casedesk.core.tests.test_serve import CASEDESK, Server, free_port, servers, site
from casedesk.mail.listener import Endpoint, MailListener
from casedesk.mail.models import InboundMessage

__all__ = ["servers", "site"]  # fixtures used below, imported from the serve tests

# The listener stores from its own threads, so the tests' writes must really commit; the
# seeded rows (plans, categories) are put back afterwards for the tests that follow.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SUPPORT = "support@casedesk.localhost"
LIMIT = 4096


def message(message_id: str | None = "<r1@customer.example>", body: str = "Hello") -> bytes:
    header = f"Message-ID: {message_id}\r\n" if message_id else ""
    return (
        f"{header}From: Noor Haddad <noor@gulfnet.example>\r\nTo: {SUPPORT}\r\n"
        f"Subject: DNS 2 lets adult sites through\r\n\r\n{body}\r\n"
    ).encode()


class Running:
    def __init__(self, listener: MailListener, thread: threading.Thread) -> None:
        self.listener = listener
        self.thread = thread
        self.smtp_port = listener.endpoints[0].port
        self.lmtp_port = listener.endpoints[1].port

    def smtp(self) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10)


@pytest.fixture
def listener() -> Iterator[Running]:
    """The listener (SMTP and LMTP) in a thread, as `casedesk mail-in` runs it, with a
    small size limit; the test's database is the one it stores into."""
    endpoints = [Endpoint("smtp", "127.0.0.1", free_port()),
                 Endpoint("lmtp", "127.0.0.1", free_port())]
    mail_listener = MailListener(
        endpoints, addresses=[SUPPORT, "billing@casedesk.localhost"], max_bytes=LIMIT,
    )
    thread = threading.Thread(target=mail_listener.run, daemon=True)
    thread.start()
    assert mail_listener.ready.wait(10), "the listener did not start"
    yield Running(mail_listener, thread)
    mail_listener.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_an_accepted_message_is_stored_before_the_250(listener: Running) -> None:
    # Given a customer's mail server talking to the listener
    raw = message()
    with listener.smtp() as client:
        # When it delivers a message for the support address (in other letter case)
        refused = client.sendmail("noor@gulfnet.example", ["Support@Casedesk.localhost"], raw)
        # Then it is accepted, and the row is already there when the 250 arrives
        assert refused == {}
        [inbound] = InboundMessage.objects.all()
    assert bytes(inbound.raw) == raw
    assert inbound.message_id == "<r1@customer.example>"
    assert inbound.source == "smtp"
    assert inbound.envelope_from == "noor@gulfnet.example"
    assert inbound.envelope_to == ["Support@Casedesk.localhost"]
    assert inbound.subject == "DNS 2 lets adult sites through"
    assert inbound.status == "received"


def test_an_unknown_recipient_is_refused_with_550_and_nothing_is_stored(
    listener: Running,
) -> None:
    # Given a connection to the listener
    with listener.smtp() as client:
        # When a message is sent to an address casedesk does not serve
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("spam@example.net", ["ceo@casedesk.localhost"], message())
    # Then the recipient is refused with a reason the sender's postmaster can act on
    code, text = refused.value.recipients["ceo@casedesk.localhost"]
    assert code == 550
    assert b"no such mailbox here" in text
    assert SUPPORT.encode() in text
    assert InboundMessage.objects.count() == 0


def test_only_the_support_recipients_of_a_mixed_envelope_are_accepted(
    listener: Running,
) -> None:
    with listener.smtp() as client:
        refused = client.sendmail(
            "noor@gulfnet.example", ["ceo@casedesk.localhost", "billing@casedesk.localhost"],
            message(),
        )
    assert list(refused) == ["ceo@casedesk.localhost"]
    [inbound] = InboundMessage.objects.all()
    assert inbound.envelope_to == ["billing@casedesk.localhost"]


def test_an_oversized_message_is_refused_with_552(listener: Running) -> None:
    big = message(body="x" * 70 + ("\r\n" + "x" * 70) * (LIMIT // 70))
    with listener.smtp() as client:
        # Given the listener advertises its limit
        client.ehlo()
        assert client.has_extn("size")
        assert client.esmtp_features["size"] == str(LIMIT)

        # When a client that honours SIZE offers a bigger message, it is refused at once
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("noor@gulfnet.example", [SUPPORT], big)
        assert refused.value.smtp_code == 552

        # And when a client sends it anyway, without SIZE, it is refused after the data
        client.rset()
        assert client.mail("noor@gulfnet.example")[0] == 250
        assert client.rcpt(SUPPORT)[0] == 250
        code, _ = client.data(big)
        assert code == 552
    assert InboundMessage.objects.count() == 0


def test_the_same_message_id_twice_is_stored_once(listener: Running) -> None:
    # Given a message delivered once
    with listener.smtp() as client:
        client.sendmail("noor@gulfnet.example", [SUPPORT], message(body="first try"))

    # When the sending server retries it (it never saw our 250), byte for byte or not
    with listener.smtp() as client:
        client.ehlo()
        client.mail("noor@gulfnet.example")
        client.rcpt(SUPPORT)
        code, reply = client.data(message(body="second try"))

    # Then the retry is acknowledged, and one row holds the message
    assert code == 250
    assert b"Already stored" in reply
    [inbound] = InboundMessage.objects.all()
    assert b"first try" in bytes(inbound.raw)


def test_messages_without_message_id_are_told_apart_by_their_bytes(listener: Running) -> None:
    with listener.smtp() as client:
        for body in ["one", "two", "one"]:
            client.sendmail("noor@gulfnet.example", [SUPPORT], message(None, body=body))
    assert sorted(bytes(m.raw).split(b"\r\n\r\n")[1] for m in InboundMessage.objects.all()) == [
        b"one\r\n", b"two\r\n",
    ]


def test_lmtp_delivery_is_stored_like_smtp(listener: Running) -> None:
    # Given a local MTA (Postfix, Dovecot) handing mail over by LMTP
    with smtplib.LMTP("127.0.0.1", listener.lmtp_port, timeout=10) as client:
        # When it delivers a message
        refused = client.sendmail("noor@gulfnet.example", [SUPPORT], message())
    # Then it is accepted and stored, marked as come by LMTP
    assert refused == {}
    [inbound] = InboundMessage.objects.all()
    assert inbound.source == "lmtp"
    assert bytes(inbound.raw) == message()


def test_when_the_database_cannot_store_the_answer_is_451_and_a_retry_succeeds(
    listener: Running,
) -> None:
    # Given the database cannot take the message (its table is unavailable)
    table = InboundMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        with listener.smtp() as client:
            client.ehlo()
            client.mail("noor@gulfnet.example")
            client.rcpt(SUPPORT)
            # When a message arrives
            code, reply = client.data(message())
        # Then the sender is told to try again later: the message stays its to deliver
        assert code == 451
        assert b"try again later" in reply
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")

    # When the database is back and the sending server retries
    with listener.smtp() as client:
        assert client.sendmail("noor@gulfnet.example", [SUPPORT], message()) == {}
    # Then the message is stored
    assert InboundMessage.objects.count() == 1


def test_mail_in_runs_until_sigterm(site: dict[str, str]) -> None:
    # Given `casedesk mail-in` running, as an operator starts it
    port = free_port()
    process = subprocess.Popen(
        [CASEDESK, "mail-in", "--smtp", f"127.0.0.1:{port}"], env=site,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert f"Receiving mail for {SUPPORT} on smtp://127.0.0.1:{port}" in first

        # When a message is delivered to it
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.sendmail("noor@gulfnet.example", [SUPPORT], message()) == {}

        # And it is sent SIGTERM, then it stops cleanly, saying so
        process.terminate()
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert "mail-in stopped." in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # And the message is in that installation's database
    count = subprocess.run(
        [CASEDESK, "shell", "-v", "0", "-c",
         "from casedesk.mail.models import InboundMessage as M; "
         "print(M.objects.filter(source='smtp').count())"],
        env=site, capture_output=True, text=True, check=True,
    )
    assert count.stdout.strip() == "1"


def test_serve_receives_mail_too_and_can_leave_it_out(
    site: dict[str, str], servers: list[Server]
) -> None:
    # Given `casedesk serve` running with its mail listener on a port of its own
    server = Server(site, "--workers", "1")
    servers.append(server)
    server.wait_for("Press Ctrl-C to stop.")
    smtp_port = int(site["CASEDESK_SMTP_LISTEN"].rpartition(":")[2])
    assert f"receiving mail on smtp://127.0.0.1:{smtp_port}" in server.output

    # When a message is delivered to it, then it is accepted
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        assert client.sendmail("noor@gulfnet.example", [SUPPORT], message()) == {}
    server.process.terminate()
    assert server.wait() == 0, server.output

    # And with --no-mail-in nothing listens for mail
    quiet = Server(site, "--workers", "1", "--no-mail-in")
    servers.append(quiet)
    quiet.wait_for("Press Ctrl-C to stop.")
    assert "receiving mail" not in quiet.output
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", smtp_port, timeout=5)
    quiet.process.terminate()
    assert quiet.wait() == 0, quiet.output
