"""A real SMTP server (aiosmtpd) on a free local port, for delivery tests."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from casedesk.conftest import MAIL_POLICY


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the server received: each accepted message, and who signed in."""

    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls_sessions: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.tls_sessions.append(session.ssl is not None)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=MAIL_POLICY)  # type: ignore[misc]
            for e in self.envelopes
        ]


def password_checker(inbox: Inbox, username: str, password: str) -> Callable[..., AuthResult]:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
              auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, given = auth_data.login.decode(), auth_data.password.decode()
        inbox.logins.append((login, given))
        # handled=False: the server itself answers "535 credentials invalid".
        return AuthResult(success=(login, given) == (username, password), handled=False)

    return check


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int

    def url(self, scheme: str = "smtp", credentials: str = "", query: str = "") -> str:
        userinfo = f"{credentials}@" if credentials else ""
        return f"{scheme}://{userinfo}127.0.0.1:{self.port}{query}"


@contextmanager
def smtp_server(**options: Any) -> Iterator[SmtpServer]:
    """Run an SMTP server for the duration of the block. Options go to aiosmtpd:
    `authenticator`, `tls_context` + `require_starttls` (STARTTLS), `ssl_context`
    (TLS from the first byte), `auth_require_tls`."""
    inbox = options.pop("inbox", None) or Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(inbox, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A plain SMTP server that accepts every message, without authentication."""
    with smtp_server() as server:
        yield server


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1; clients trust it through SSL_CERT_FILE."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return Certificate(cert, key)


@pytest.fixture
def trust(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    """Make the test certificate the one authority clients trust (as a company CA would)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    return certificate
