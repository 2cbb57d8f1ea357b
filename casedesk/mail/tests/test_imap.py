"""IMAP polling against a real Dovecot (Debian's dovecot-imapd), started for each test on
free ports with its own mail folder and a self-signed certificate the client trusts."""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from casedesk.core.schedule import periodic_tasks
from casedesk.core.tests.test_serve import CASEDESK, site
from casedesk.mail.imap import parse_url, poll_imap
from casedesk.mail.models import InboundMessage
from casedesk.mail.tests.conftest import Certificate, free_port

__all__ = ["site"]  # a fixture, from the serve tests

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "support@kidzonet.example", "imap p@ss"
# The same, percent-encoded for a URL.
CREDENTIALS = "support%40kidzonet.example:imap%20p%40ss"



@dataclass
class Imap:
    imaps_port: int
    imap_port: int

    def url(self, scheme: str = "imaps", folder: str = "") -> str:
        port = self.imaps_port if scheme == "imaps" else self.imap_port
        return f"{scheme}://{CREDENTIALS}@127.0.0.1:{port}/{folder}"

    def client(self) -> imaplib.IMAP4_SSL:
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port,
                                   ssl_context=ssl.create_default_context(), timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        for raw in messages:
            assert client.append(folder, None, None, raw)[0] == "OK"
        client.logout()

    def uids(self, folder: str) -> list[bytes]:
        client = self.client()
        client.create(folder)
        client.select(folder)
        found = client.uid("SEARCH", "UNDELETED")[1][0].split()
        client.logout()
        return found


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "Dovecot did not start: " + (log.read_text() if log.exists() else "")
                ) from None
            time.sleep(0.1)


@pytest.fixture
def dovecot(trust: Certificate) -> Iterator[Imap]:
    if not Path(DOVECOT).exists() or os.geteuid() != 0:
        pytest.skip("needs Debian's dovecot-imapd (apt-get install dovecot-imapd) and root")
    # Not under pytest's tmp_path: Dovecot's unprivileged processes must reach the folder.
    root = Path(tempfile.mkdtemp(prefix="casedesk-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    shutil.chown(root / "mail", "nobody", "nogroup")
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    imap = Imap(imaps_port=free_port(), imap_port=free_port())
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{trust.cert}
ssl_key = <{trust.key}
first_valid_uid = 100
mail_location = maildir:{root}/mail/%n
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    port = {imap.imap_port}
  }}
  inet_listener imaps {{
    port = {imap.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
""")
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    try:
        wait_listening(imap.imaps_port, process, root / "dovecot.log")
        yield imap
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(root, ignore_errors=True)


def message(n: int) -> bytes:
    return (
        f"Message-ID: <imap{n}@customer.example>\r\nFrom: Customer <c@customer.example>\r\n"
        f"To: {USER}\r\nSubject: Question {n}\r\n\r\nBody {n}\r\n"
    ).encode()


def test_polled_mail_is_stored_then_moved_to_the_processed_folder(
    db: Any, settings: Any, dovecot: Imap
) -> None:
    # Given two messages waiting in the support mailbox
    dovecot.deliver(message(1), message(2))
    settings.CASEDESK_IMAP_URL = dovecot.url() + "?processed=Done"

    # When the periodic poll runs
    counts = poll_imap.call()

    # Then both are stored as IMAP mail, and the inbox is empty, its mail in Done
    assert counts == {"stored": 2, "duplicates": 0, "failed": 0}
    assert sorted(InboundMessage.objects.values_list("subject", "source")) == [
        ("Question 1", "imap"), ("Question 2", "imap"),
    ]
    assert bytes(InboundMessage.objects.get(subject="Question 1").raw) == message(1)
    assert dovecot.uids("INBOX") == []
    assert len(dovecot.uids("Done")) == 2


def test_a_message_seen_again_is_stored_once_and_still_moved(
    db: Any, settings: Any, dovecot: Imap
) -> None:
    # Given a message already stored (a poll stored it, then crashed before moving it)
    settings.CASEDESK_IMAP_URL = dovecot.url("imap")  # STARTTLS this time
    dovecot.deliver(message(1))
    assert poll_imap.call()["stored"] == 1
    dovecot.deliver(message(1))

    # When the next poll finds it again
    counts = poll_imap.call()

    # Then nothing is stored twice, and the inbox is emptied all the same
    assert counts == {"stored": 0, "duplicates": 1, "failed": 0}
    assert InboundMessage.objects.count() == 1
    assert dovecot.uids("INBOX") == []
    assert len(dovecot.uids("casedesk-processed")) == 2


def test_a_wrong_password_leaves_the_mail_where_it_is(
    db: Any, settings: Any, dovecot: Imap
) -> None:
    dovecot.deliver(message(1))
    settings.CASEDESK_IMAP_URL = dovecot.url().replace("imap%20p", "wrong")
    assert poll_imap.call() == {"stored": 0, "duplicates": 0, "failed": 1}
    assert InboundMessage.objects.count() == 0
    assert len(dovecot.uids("INBOX")) == 1


def test_the_poll_is_scheduled_only_when_a_mailbox_is_configured(settings: Any) -> None:
    settings.CASEDESK_IMAP_URL = ""
    assert "mail.imap" not in [p.name for p in periodic_tasks()]
    settings.CASEDESK_IMAP_URL = "imaps://u:p@imap.example.com/INBOX"
    assert "mail.imap" in [p.name for p in periodic_tasks()]


def test_bad_urls_are_refused_with_a_reason() -> None:
    for url, reason in [
        ("pop3://u:p@host", "must start with imaps://"),
        ("imaps://host/INBOX", "must name a user and a host"),
        ("imaps://u:p@host/INBOX?move=Done", "unknown option"),
    ]:
        with pytest.raises(ImproperlyConfigured, match=reason):
            parse_url(url)
    mailbox = parse_url("imaps://support%40x.example:p%2Fw@imap.x.example/Support?processed=Old")
    assert (mailbox.username, mailbox.password, mailbox.folder, mailbox.processed, mailbox.port) \
        == ("support@x.example", "p/w", "Support", "Old", 993)


def test_serve_refuses_to_start_with_a_bad_imap_url(site: dict[str, str]) -> None:
    env = {**site, "CASEDESK_IMAP_URL": "imaps://imap.example.com/INBOX"}
    result = subprocess.run(
        [CASEDESK, "serve", "--port", str(free_port())], env=env, capture_output=True,
        text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "CASEDESK_IMAP_URL 'imaps://imap.example.com/INBOX' must name a user" in result.stderr
