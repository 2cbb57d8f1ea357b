"""CASEDESK_EMAIL_URL: how each form is read, what a bad one says, and the file outbox."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from casedesk.conftest import make_case, make_contact, make_org
from casedesk.mail.backends import OutboxBackend, backend_from_url
from casedesk.mail.models import OutboundMail


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.net", dict(
            host="mail.example.net", port=25, username="", password="", use_tls=False,
            use_ssl=False, timeout=30.0)),
        ("smtp://desk:secret@mail.example.net:587?tls=1", dict(
            host="mail.example.net", port=587, username="desk", password="secret",
            use_tls=True, use_ssl=False)),
        ("smtp://desk%40kidzonet.example:p%40ss%3Aw%2Frd@10.0.0.5:2525?tls=true&timeout=5",
         dict(host="10.0.0.5", port=2525, username="desk@kidzonet.example",
              password="p@ss:w/rd", use_tls=True, timeout=5.0)),
        ("smtps://desk:secret@mail.example.net", dict(
            host="mail.example.net", port=465, username="desk", password="secret",
            use_tls=False, use_ssl=True)),
        ("smtps://mail.example.net:2465?timeout=2.5", dict(port=2465, use_ssl=True,
                                                           timeout=2.5)),
        ("smtp://mail.example.net?tls=0", dict(use_tls=False, use_ssl=False)),
    ],
)
def test_smtp_urls_set_host_port_credentials_and_tls(url: str, expected: dict[str, Any]) -> None:
    backend = backend_from_url(url)
    assert isinstance(backend, SmtpBackend)
    assert {name: getattr(backend, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smtp://", "names no SMTP host"),
        ("smtp://mail.example.net:port", "is not valid: Port could not be cast"),
        ("smtp://mail.example.net:99999", "is not valid: Port out of range"),
        ("smtp://mail.example.net?timeout=soon", "is not valid: could not convert"),
        ("smtp://mail.example.net?ssl=1", "unknown option(s) ssl; the options are timeout, tls"),
        ("smtps://mail.example.net?tls=1", "smtps:// is TLS from the first byte"),
        ("imap://desk:secret@mail.example.net", "must start with file://, smtp:// or smtps://"),
        ("mail.example.net", "must start with file://, smtp:// or smtps://"),
        ("file://var/outbox", "must name an absolute folder after file://"),
        ("file://", "must name an absolute folder after file://"),
    ],
)
def test_a_bad_url_is_refused_with_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        backend_from_url(url)
    assert message in str(refused.value)


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        backend_from_url("smtpx://desk:hunter2-secret@mail.example.net")
    assert "hunter2" not in str(refused.value)
    assert "desk:***@mail.example.net" in str(refused.value)


def test_a_file_url_names_the_outbox_folder(tmp_path: Path) -> None:
    backend = backend_from_url(f"file://{tmp_path}/out%20box")
    assert isinstance(backend, OutboxBackend)
    assert backend.directory == tmp_path / "out box"


def test_the_file_outbox_holds_one_whole_parseable_message_per_mail(
    db: Any, settings: Any, send_mail: Any
) -> None:
    # Given a new requester's case (acknowledgement and invitation) and a known contact's
    contact = make_contact(make_org())
    make_case(email="first.time@example.org")
    make_case(contact)

    # When the mail is delivered to the file outbox
    send_mail()

    # Then each mail is one .eml file, nothing half-written is left, and each parses back
    # into the message that was stored
    folder = Path(settings.CASEDESK_EMAIL_URL.removeprefix("file://"))
    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".eml"] * 3
    parsed = {}
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        parsed[message["Message-ID"]] = message
    stored = OutboundMail.objects.all()
    assert set(parsed) == {mail.message_id for mail in stored}
    for mail in stored:
        message = parsed[mail.message_id]
        assert (message["To"], message["Subject"]) == (mail.to, mail.subject)
        assert message["From"] == settings.DEFAULT_FROM_EMAIL
        text, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
        assert text is not None and html is not None
        assert text.get_content().strip() == mail.body_text.strip()
        assert html.get_content().strip() == mail.body_html.strip()
        assert mail.status == "sent"
