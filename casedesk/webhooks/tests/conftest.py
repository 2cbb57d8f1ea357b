"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) that records every request
and answers with the statuses a test scripts, and the settings that let casedesk send to
it (loopback is refused by default)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from casedesk.accounts.models import User
from casedesk.conftest import make_agent
from casedesk.webhooks.actions import SubscriptionData, create_subscription
from casedesk.webhooks.models import Subscription

DOCS = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []  # answered in turn; 200 once they run out
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                payload = b"ok" if status < 300 else b"receiver broke: database is down"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/casedesk"

    def types(self) -> list[str]:
        return [r.headers["Casedesk-Event"] for r in self.requests]


@contextmanager
def serving(settings: Any) -> Iterator[Receiver]:
    """A receiver running, and the settings that let casedesk send to it."""
    settings.CASEDESK_WEBHOOK_ALLOW_PRIVATE = True
    settings.CASEDESK_WEBHOOK_TIMEOUT_SECONDS = 5
    found = Receiver()
    found.thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    with serving(settings) as found:
        yield found


@pytest.fixture
def admin(db: Any) -> User:
    return make_agent(is_staff=True, is_superuser=True)


def subscribe(url: str, events: list[str], admin: User, **fields: Any) -> tuple[Subscription, str]:
    return create_subscription(SubscriptionData(url=url, events=events, **fields), admin)


def documented_verify() -> Any:
    """The `verify` function of docs/webhooks.md, run as a reader would copy it."""
    code = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert code is not None, "docs/webhooks.md has no Python snippet"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]
