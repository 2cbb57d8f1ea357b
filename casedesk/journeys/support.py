"""What the journeys and their fixtures share: the people, the running site, its outbox
of mail, and the numbered screenshots of each test."""

from __future__ import annotations

import email
import email.policy
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

MAIL_SECONDS = 20.0
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    full_name: str


@dataclass(frozen=True)
class Site:
    """The running product and the people and organization in it."""

    url: str
    data_dir: Path
    agent: Person
    org_name: str
    org_domain: str
    # The environment the site's processes run with, for a test that runs a casedesk
    # command against the same database (e.g. `createadmin` for a person of its own).
    env: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def outbox(self) -> Outbox:
        return Outbox(self.data_dir / "outbox")


# -- mail ---------------------------------------------------------------------------------


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"no text part in {message['Subject']!r}"
    return str(part.get_content())  # type: ignore[attr-defined]


class Outbox:
    """The `.eml` files the background worker writes; written whole, named in time order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in sorted(self.folder.glob("*.eml"))
        ]

    def wait_for(
        self, *, to: str, subject: str = "", body: str = "", timeout: float = MAIL_SECONDS
    ) -> EmailMessage:
        """The first message to `to` whose subject and body contain the given text.

        Polls: delivery is a background job, so the mail lands a second or two after the
        page that caused it.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            for message in found:
                if (
                    to.lower() in str(message["To"]).lower()
                    and subject in str(message["Subject"])
                    and body in body_text(message)
                ):
                    return message
            if time.monotonic() > deadline:
                seen = "\n".join(f"  to {m['To']}: {m['Subject']}" for m in found) or "  none"
                pytest.fail(
                    f"No mail to {to} with subject containing {subject!r} and body containing "
                    f"{body!r} within {timeout:.0f} s. Outbox:\n{seen}"
                )
            time.sleep(0.2)


class Shots:
    """Numbered full-page screenshots of one test, in the order the pages were seen."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def take(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@dataclass
class Pages:
    """Opens pages, each in a fresh context (its own cookies), and watches them for errors:
    a server error, a broken asset, a script error. Any of those fails the test."""

    browser: Browser
    base_url: str
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def open(self, viewport: dict[str, int] = DESKTOP) -> Page:
        context = self.browser.new_context(base_url=self.base_url, viewport=viewport)  # type: ignore[arg-type]
        # Short: every page here answers in milliseconds; a missing element fails fast.
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        page.on("response", self._check_response)
        return page

    def _check_response(self, response: Any) -> None:
        if response.status >= 500 or (
            response.status >= 400 and response.request.resource_type != "document"
        ):
            self.problems.append(f"{response.status} for {response.request.method} {response.url}")
