"""Outbound transport chosen by CASEDESK_EMAIL_URL.

- ``file:///path/to/outbox``: the embedded default; each message is written whole to its own
  ``.eml`` file (atomically, through a temporary name), ready to open in any mail client.
- ``smtp://user:password@host:port`` with ``?tls=1`` for STARTTLS, or ``smtps://`` for
  implicit TLS; ``?timeout=`` in seconds (default 30).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils import timezone

TRUE_WORDS = {"1", "true", "yes", "on"}


SMTP_OPTIONS = {"tls", "timeout"}


def redacted(url: str) -> str:
    """The URL with its password hidden: error messages end up in logs and in the admin."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def backend_from_url(url: str, **kwargs: Any) -> BaseEmailBackend:
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in {"", "localhost"} or not parts.path:
            raise ImproperlyConfigured(
                f"CASEDESK_EMAIL_URL {url!r} must name an absolute folder after file://, "
                "as in file:///var/lib/casedesk/outbox"
            )
        return OutboxBackend(Path(unquote(parts.path)), **kwargs)
    if parts.scheme in {"smtp", "smtps"}:
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = sorted(set(query) - SMTP_OPTIONS)
        if unknown:
            raise ImproperlyConfigured(
                f"CASEDESK_EMAIL_URL has unknown option(s) {', '.join(unknown)}; "
                f"the options are {', '.join(sorted(SMTP_OPTIONS))}"
            )
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
            timeout = float(query.get("timeout", "30"))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"CASEDESK_EMAIL_URL {redacted(url)!r} is not valid: {exc}"
            ) from exc
        if not parts.hostname:
            raise ImproperlyConfigured("CASEDESK_EMAIL_URL names no SMTP host")
        use_tls = query.get("tls", "").lower() in TRUE_WORDS
        if use_tls and parts.scheme == "smtps":
            raise ImproperlyConfigured(
                "CASEDESK_EMAIL_URL: smtps:// is TLS from the first byte; ?tls=1 asks for "
                "STARTTLS, which is for smtp:// only. Use one or the other."
            )
        return SmtpBackend(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_tls=use_tls,
            use_ssl=parts.scheme == "smtps",
            timeout=timeout,
            **kwargs,
        )
    raise ImproperlyConfigured(
        "CASEDESK_EMAIL_URL must start with file://, smtp:// or smtps://, "
        f"got {redacted(url)!r}"
    )


class UrlEmailBackend(BaseEmailBackend):
    """Django's EMAIL_BACKEND: delegates to the transport CASEDESK_EMAIL_URL names."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.inner = backend_from_url(
            settings.CASEDESK_EMAIL_URL, fail_silently=fail_silently, **kwargs
        )

    def open(self) -> bool | None:
        return self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        return self.inner.send_messages(email_messages)


class OutboxBackend(BaseEmailBackend):
    def __init__(self, directory: Path, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.directory = directory

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            # Django's MIME classes take linesep; the stubs know only the stdlib signature.
            data = message.message().as_bytes(linesep="\n")  # type: ignore[call-arg]
            # Names sort by the time they were written, then stay unique.
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}"
            temporary = self.directory / f".{name}.tmp"
            temporary.write_bytes(data)
            # A reader never sees half a message: the file appears under its name whole.
            os.replace(temporary, self.directory / f"{name}.eml")
            sent += 1
        return sent
