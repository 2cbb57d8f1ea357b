"""Shared test helpers: factories that go through the real actions, and the mail outbox.

Every test runs with its own upload folder and outbox folder, so files and mail from one
test never show up in another.
"""

from __future__ import annotations

import email
import email.policy
import itertools
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from casedesk.accounts.models import Organization, User
from casedesk.core.choices import Priority
from casedesk.core.files import check_upload
from casedesk.mail.jobs import deliver
from casedesk.mail.models import OutboundMail
from casedesk.sla.models import Plan
from casedesk.tickets.actions import Submission, submit_case
from casedesk.tickets.models import Category

PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count(1)

# The smallest valid PNG: a 1x1 transparent pixel.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def _isolated_files(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    settings.CASEDESK_EMAIL_URL = f"file://{tmp_path / 'outbox'}"
    # Django's test set-up swaps in its in-memory backend; mail here goes the real way.
    settings.EMAIL_BACKEND = "casedesk.mail.backends.UrlEmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Site configuration, level names and API rate-limit counters are cached per process:
    # no test sees another's, and query counts do not depend on which test ran first.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Most tests sign in with force_login; hashing every factory user's password with the
    # production hasher would be most of their run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _reader_reset() -> Iterator[None]:
    """A request leaves its reader's language and time zone active in the thread, as
    Django's LocaleMiddleware does (the next request activates its own). Between tests,
    code called directly must start from the site's defaults again."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)
    timezone.deactivate()


def png_upload(name: str = "screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def make_org(
    name: str | None = None,
    *,
    plan: str = "Standard",
    domains: str = "",
    org_wide_visibility: bool = True,
) -> Organization:
    n = next(_seq)
    return Organization.objects.create(
        name=name or f"Partner {n}",
        plan=Plan.objects.get(name=plan),
        email_domains=domains or f"partner{n}.example",
        org_wide_visibility=org_wide_visibility,
    )


def make_contact(
    org: Organization | None = None,
    *,
    email: str | None = None,
    password: str | None = PASSWORD,
    **fields: Any,
) -> User:
    n = next(_seq)
    domain = org.domain_list()[0] if org and org.domain_list() else "example.net"
    return User.objects.create_user(
        email or f"contact{n}@{domain}",
        password,
        full_name=fields.pop("full_name", f"Contact {n}"),
        organization=org,
        role=User.Role.CONTACT,
        **fields,
    )


def make_agent(*, email: str | None = None, password: str = PASSWORD, **fields: Any) -> User:
    n = next(_seq)
    return User.objects.create_user(
        email or f"agent{n}@casedesk.example",
        password,
        full_name=fields.pop("full_name", f"Agent {n}"),
        role=User.Role.AGENT,
        **fields,
    )


def make_case(
    requester: User | None = None,
    *,
    subject: str = "Filtering stopped on DNS 2",
    description: str = "Since 09:00 the second resolver lets adult sites through.",
    priority: int = Priority.HIGH,
    files: list[SimpleUploadedFile] | None = None,
    email: str | None = None,
    full_name: str = "New Customer",
) -> Submission:
    """A case opened through the real submission action (as the portal does)."""
    return submit_case(
        email=email or (requester.email if requester else f"new{next(_seq)}@example.org"),
        full_name=full_name,
        subject=subject,
        description=description,
        priority=priority,
        category=Category.objects.first(),
        files=[check_upload(f) for f in files or []],
        submitted_by=requester,
    )


class DeliveredMessage(EmailMessage):
    """A delivered mail as tests read it. Every mail has a text and an HTML part
    (multipart/alternative); get_content() without arguments gives the text part, what a
    plain-text reader sees, so tests need not walk the MIME tree. get_body() still
    reaches the HTML part."""

    def get_content(self, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and self.get_content_type() == "multipart/alternative":
            part = self.get_body(preferencelist=("plain",))
            assert part is not None, "a mail without a text part"
            return part.get_content()
        return super().get_content(*args, **kwargs)


MAIL_POLICY = email.policy.default.clone(message_factory=DeliveredMessage)


def read_outbox(settings: Any) -> list[EmailMessage]:
    """The messages in the outbox folder, oldest first."""
    folder = Path(settings.CASEDESK_EMAIL_URL.removeprefix("file://"))
    if not folder.exists():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=MAIL_POLICY)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


@pytest.fixture
def send_mail(settings: Any) -> Callable[[], list[EmailMessage]]:
    """Deliver every queued message through the real delivery job, then read the outbox."""

    def run() -> list[EmailMessage]:
        for mail_id in OutboundMail.objects.filter(status=OutboundMail.Status.QUEUED).values_list(
            "pk", flat=True
        ):
            deliver(mail_id)
        return read_outbox(settings)

    return run


# The people most tests need: a Premium partner, one of its contacts, and an agent. A test
# folder may override any of them in its own conftest.
@pytest.fixture
def org(db: Any) -> Organization:
    return make_org("Gulf Net", plan="Premium", domains="gulfnet.example")


@pytest.fixture
def contact(org: Organization) -> User:
    return make_contact(org, email="noor@gulfnet.example", full_name="Noor Haddad")


@pytest.fixture
def agent(db: Any) -> User:
    return make_agent(email="sam@casedesk.example", full_name="Sam Agent")
