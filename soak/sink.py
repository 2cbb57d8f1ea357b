"""The outbound mail sink: a real SMTP server (aiosmtpd) on loopback that keeps every
message casedesk's workers deliver, so acknowledgements can be counted exactly."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from bench.target import free_port


@dataclass(frozen=True)
class Received:
    message_id: str
    subject: str
    to: tuple[str, ...]
    in_reply_to: str


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.sink.add(Received(
            message_id=str(parsed.get("Message-ID", "")).strip(),
            subject=str(parsed.get("Subject", "")),
            to=tuple(str(a).lower() for a in envelope.rcpt_tos),
            in_reply_to=str(parsed.get("In-Reply-To", "")).strip(),
        ))
        return "250 OK"


class Sink:
    """Started on a free port of 127.0.0.1; `messages` is everything received, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def add(self, message: Received) -> None:
        with self.lock:
            self.messages.append(message)

    def start(self) -> int:
        self.controller.start()
        return self.port

    def stop(self) -> None:
        self.controller.stop()

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def counts_by_message_id(self) -> Counter[str]:
        return Counter(m.message_id for m in self.snapshot())
