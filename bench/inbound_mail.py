"""The inbound benchmark's messages (bench/inbound.py's docstring says the mix): replies,
new cases, delivery reports and out-of-office answers, generated from a fixed seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

SUPPORT = "support@casedesk.localhost"
WORDS = ("printer invoice login password export report screen error server update "
         "backup licence account delay network timeout upload dashboard mobile sync").split()


@dataclass
class Mix:
    replies: int = 0
    new_cases: int = 0
    automatic: int = 0
    attachments: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def bounce(n: int, recipient: str) -> bytes:
    boundary = f"dsn-{n}"
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.bench.example>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: <bounce{n}@mx.bench.example>\r\nAuto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        f' boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n\r\n"
        f"<{recipient}>: host mx.bench.example said: 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.bench.example\r\n\r\nFinal-Recipient: rfc822; {recipient}\r\n"
        f"Action: failed\r\nStatus: 5.1.1\r\n\r\n--{boundary}--\r\n"
    ).encode()


def generate(count: int, world: dict[str, Any], seed: int,
             png: bytes) -> tuple[list[bytes], Mix]:
    rng = random.Random(seed)
    mix = Mix()
    out = []
    for n in range(count):
        msg = EmailMessage()
        msg["To"] = SUPPORT
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(f"b{n}", domain="clients.bench.example")
        roll = rng.random()
        body = f"Hello,\n\n{_words(rng, rng.randint(10, 80))}.\n\nRegards\n"
        if roll < 0.60:
            case = rng.choice(world["cases"])
            msg["From"] = f"Contact <{case['email']}>"
            if rng.random() < 0.8:
                msg["Subject"] = f"Re: {case['subject']}"
                msg["In-Reply-To"] = case["ack"]
                msg["References"] = case["ack"]
                mix.add("reply by In-Reply-To")
            else:
                msg["Subject"] = f"Re: [Case #{case['id']}] {case['subject']}"
                mix.add("reply by [Case #N] tag")
            body += (f"\nOn Mon, 2 Mar 2026 at 10:00, Support <{SUPPORT}> wrote:\n"
                     f"> We received your request.\n> {_words(rng, 20)}\n")
            mix.replies += 1
        elif roll < 0.90:
            if rng.random() < 0.5:
                sender = rng.choice(world["contacts"])
                mix.add("new case, known contact")
            else:
                sender = f"person{n}@unknown{n % 97}.bench.example"
                mix.add("new case, unknown sender")
            msg["From"] = f"Someone <{sender}>"
            msg["Subject"] = f"Problem with the {_words(rng, 2)}"
            mix.new_cases += 1
        else:
            mix.automatic += 1
            case = rng.choice(world["cases"])
            if rng.random() < 0.5:
                # A delivery-status report as a mail server writes it (by hand: the email
                # package cannot build message/delivery-status parts).
                out.append(bounce(n, case["email"]))
                mix.add("bounce (DSN)")
                continue
            msg["From"] = f"Contact <{case['email']}>"
            msg["Subject"] = f"Out of office: {case['subject']}"
            msg["Auto-Submitted"] = "auto-replied"
            msg["In-Reply-To"] = case["ack"]
            msg["References"] = case["ack"]
            body = "I am out of the office until Monday.\n"
            mix.add("out-of-office to our ack")
        msg.set_content(body)
        if roll < 0.90 and rng.random() < 0.10:
            msg.add_attachment(png, maintype="image", subtype="png",
                               filename=f"screenshot-{n}.png")
            mix.attachments += 1
        # SMTP wants CRLF, and smtplib sends bytes as they are.
        out.append(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
    return out, mix
