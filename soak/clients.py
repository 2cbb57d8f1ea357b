"""The soak's clients: portal visitors and contacts, API integrations and mail senders.

Each client is a thread that loops until the deadline and writes every attempt into its
ledger: what it sent (a unique marker in a subject or body), whether casedesk accepted it
(a redirect to the confirmation page with a Case ID, a 201, an SMTP 250), how long it took
and, when it failed, what kind of failure it saw. The audit (soak.audit) then holds the
database and the mail sink to the ledgers.

They behave as real clients do: a browser never re-posts a form on its own (a connection
lost mid-post is an error the person sees), an API client retries with the same
Idempotency-Key, a mail server retries a message with the same Message-ID.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import re
import smtplib
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from bench import loadgen
from bench.png import make_png
from soak.sink import Sink

SUBMITTED = re.compile(r"/submitted/([^/]+)/")
CASE_TAG = re.compile(r"\[Case #(\d+)\]")
SUPPORT = "support@casedesk.localhost"
# Connection errors a client can meet when a process dies under it.
RETRYABLE = (ConnectionError, http.client.HTTPException, socket.timeout, OSError)


@dataclass
class Attempt:
    kind: str  # portal, api, smtp-new, smtp-reply
    marker: str
    accepted: bool
    outcome: str  # "accepted" or the kind of error
    seconds: float
    case_id: int | None = None
    tries: int = 1
    replayed: str = ""  # api: "" (not replayed), "ok", or what was wrong with the replay


@dataclass
class World:
    """What the clients share: the run's name, the cases they may reply to, the sink."""

    run: str
    sink: Sink
    deadline: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    reply_targets: list[int] = field(default_factory=list)

    def add_target(self, case_id: int) -> None:
        with self.lock:
            self.reply_targets.append(case_id)

    def pick_target(self, rng: random.Random) -> int | None:
        with self.lock:
            return rng.choice(self.reply_targets) if self.reply_targets else None


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected):
        return "connection reset"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timeout"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "smtp disconnected"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return f"smtp {exc.smtp_code} {' '.join(text.split()[:6])}"
    return type(exc).__name__


def status_kind(status: int) -> str:
    return f"http {status // 100}xx ({status})"


def case_id_from_token(token: str) -> int:
    """The Case ID a confirmation link carries (django.core.signing: base64 JSON, then the
    signature; the orchestrator reads it without the key, as the page would show it)."""
    payload = token.split(":")[0]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


class Base(threading.Thread):
    kind = ""

    def __init__(self, world: World, index: int, seed: int) -> None:
        super().__init__(name=f"soak-{self.kind}-{index}", daemon=True)
        self.world = world
        self.index = index
        self.rng = random.Random(seed)
        self.ledger: list[Attempt] = []
        self.failure = ""

    def marker(self, what: str, k: int) -> str:
        return f"soak-{self.world.run}-{what}-c{self.index}-n{k}"

    def run(self) -> None:
        k = 0
        try:
            while time.monotonic() < self.world.deadline:
                k += 1
                self.once(k)
        except Exception as exc:  # noqa: BLE001 - a harness bug must show, not hang the soak
            self.failure = f"{type(exc).__name__}: {exc}"

    def prepare(self) -> None:
        """Before the clock starts (sign in, read the form)."""

    def once(self, k: int) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------- portal


class PortalClient(Base):
    """Submits cases through /submit/, signed in as a demo contact or anonymous."""

    kind = "portal"

    def __init__(self, world: World, index: int, seed: int, port: int,
                 email: str | None, screenshot: bytes) -> None:
        super().__init__(world, index, seed)
        self.port = port
        self.email = email
        self.screenshot = screenshot
        self.client = loadgen.Client(port)
        self.plan: loadgen.SubmitPlan | None = None

    def prepare(self) -> None:
        if self.email:
            loadgen.sign_in(self.client, "/accounts/signin/", self.email,
                            "demo-customer-passphrase")
        status, _, body = self.client.request("GET", "/submit/")
        if status != 200:
            raise loadgen.HttpError(f"GET /submit/ answered {status}")
        form = loadgen.main_form(body.decode("utf-8", "replace"),
                                 want=lambda f: "csrfmiddlewaretoken" in f.fields)
        self.plan = loadgen.SubmitPlan(form, "/submit/", ["gulfnet.example"], None)

    def once(self, k: int) -> None:
        assert self.plan is not None
        marker = self.marker("portal", k)
        t0 = time.perf_counter()
        try:
            status, _, body = self.client.request("GET", "/submit/")
            if status != 200:
                self.record(marker, t0, status_kind(status))
                return
            values = self.plan.values(self.rng, self.index, k)
            for name in values:
                if "subject" in name.lower():
                    values[name] = f"{marker} {values[name]}"[:200]
            values["csrfmiddlewaretoken"] = loadgen.csrf_token(body.decode("utf-8", "replace"))
            files = []
            file_field = self.plan.file_field()
            if file_field and k % 4 == 0:
                files.append((file_field, f"screenshot-{k}.png", "image/png", self.screenshot))
            data, content_type = loadgen.multipart(values, files)
            # A browser does not post a form again by itself: no retry.
            status, location, _ = self.client.request("POST", "/submit/", data, {
                "Content-Type": content_type,
                "Referer": f"http://127.0.0.1:{self.port}/submit/",
            }, retry=False)
        except RETRYABLE as exc:
            self.client.close()
            self.record(marker, t0, error_kind(exc))
            return
        found = SUBMITTED.search(location)
        if status in (302, 303) and found:
            case_id = case_id_from_token(found.group(1))
            self.ledger.append(Attempt("portal", marker, True, "accepted",
                                       time.perf_counter() - t0, case_id))
            if self.email is None or self.email.endswith("@gulfnet.example"):
                self.world.add_target(case_id)
        else:
            self.record(marker, t0, status_kind(status))

    def record(self, marker: str, t0: float, outcome: str) -> None:
        self.ledger.append(Attempt("portal", marker, False, outcome, time.perf_counter() - t0))


# ---------------------------------------------------------------- API


class ApiClient(Base):
    """Replies to the contacts' cases over the REST API with a bearer token and an
    Idempotency-Key, retrying (same key) on connection errors and 5xx as a client
    library would; now and then it sends an accepted reply again on purpose."""

    kind = "api"
    MAX_TRIES = 6

    def __init__(self, world: World, index: int, seed: int, port: int, token: str) -> None:
        super().__init__(world, index, seed)
        self.port = port
        self.token = token
        self.client = loadgen.Client(port)

    def once(self, k: int) -> None:
        case_id = self.world.pick_target(self.rng)
        if case_id is None:
            time.sleep(0.2)
            return
        marker = self.marker("api", k)
        body = json.dumps({"body": f"{marker}\nMore detail from our monitoring: "
                           f"{self.rng.getrandbits(64):x}."}).encode()
        headers = {"Authorization": f"Bearer {self.token}",
                   "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        path = f"/api/v1/cases/{case_id}/messages"
        t0 = time.perf_counter()
        outcome, tries = "", 0
        while tries < self.MAX_TRIES:
            tries += 1
            try:
                status, _, _ = self.client.request("POST", path, body, headers, retry=False)
            except RETRYABLE as exc:
                self.client.close()
                outcome = error_kind(exc)
                time.sleep(min(2.0, 0.1 * 2 ** tries))
                continue
            if status == 201:
                outcome = "accepted"
                break
            outcome = status_kind(status)
            if status < 500 and status != 429:
                break
            time.sleep(min(2.0, 0.1 * 2 ** tries))
        attempt = Attempt("api", marker, outcome == "accepted", outcome,
                          time.perf_counter() - t0, case_id, tries)
        if attempt.accepted and k % 10 == 0:
            attempt.replayed = self.replay(path, body, headers)
        self.ledger.append(attempt)

    def replay(self, path: str, body: bytes, headers: dict[str, str]) -> str:
        try:
            status, _, _ = self.client.request("POST", path, body, headers, retry=False)
        except RETRYABLE as exc:
            self.client.close()
            return f"ok (replay not answered: {error_kind(exc)})"
        if status != 201:
            return f"replay answered {status}"
        return "ok"


# ---------------------------------------------------------------- SMTP


class MailClient(Base):
    """Sends new requests and replies to the mail listener over SMTP. A reply answers the
    acknowledgement the sink received for one of this client's cases (In-Reply-To and
    References its Message-ID), as a person's mail client does."""

    kind = "smtp"
    MAX_TRIES = 4

    def __init__(self, world: World, index: int, seed: int, port: int,
                 screenshot: bytes) -> None:
        super().__init__(world, index, seed)
        self.port = port
        self.screenshot = screenshot
        self.senders: set[str] = set()

    def my_acks(self) -> list[tuple[str, str, int]]:
        """(sender, ack Message-ID, Case ID) of this client's acknowledged cases."""
        found = []
        for message in self.world.sink.snapshot():
            tag = CASE_TAG.search(message.subject)
            for to in message.to:
                if to in self.senders and tag:
                    found.append((to, message.message_id, int(tag.group(1))))
        return found

    def once(self, k: int) -> None:
        # People write mail at a human pace; without a pause five senders outrun what two
        # workers on a shared two-core machine deliver, and the drain measures only that.
        if k > 1:
            time.sleep(self.rng.uniform(0.5, 1.5))
        acks = self.my_acks() if k % 3 == 0 else []
        # CRLF line ends: smtplib sends bytes as they are, and a message with bare LFs is
        # one long line to the listener (refused over 1000 characters).
        msg = EmailMessage(policy=SMTP_POLICY)
        if acks:
            sender, ack_id, case_id = self.rng.choice(acks)
            marker = self.marker("mailreply", k)
            kind = "smtp-reply"
            msg["Subject"] = f"Re: [Case #{case_id}] still broken"
            msg["In-Reply-To"] = ack_id
            msg["References"] = ack_id
            msg.set_content(f"{marker}\n\nStill happening on our side, see the log.\n\n"
                            f"> quoted text of your acknowledgement\n")
        else:
            sender = f"soak-{self.world.run}-m{self.index}-{k}@mailsoak.example".lower()
            marker = self.marker("mailnew", k)
            kind, case_id = "smtp-new", None
            msg["Subject"] = f"{marker} VPN tunnel drops every hour"
            msg.set_content(f"{marker}\n\nOur site-to-site tunnel drops every hour since "
                            "Monday. Logs attached where we have them.\n")
            if k % 5 == 0:
                msg.add_attachment(self.screenshot, maintype="image", subtype="png",
                                   filename=f"tunnel-{k}.png")
        msg["From"] = f"Soak Sender {self.index} <{sender}>"
        msg["To"] = SUPPORT
        msg["Message-ID"] = f"<{marker}@mailsoak.example>"
        msg["Date"] = "Fri, 27 Nov 2026 04:00:00 +0000"
        raw = msg.as_bytes()
        t0 = time.perf_counter()
        outcome, tries = "", 0
        while tries < self.MAX_TRIES:
            tries += 1
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as smtp:
                    smtp.sendmail(sender, [SUPPORT], raw)
                outcome = "accepted"
                break
            except (smtplib.SMTPException, *RETRYABLE) as exc:
                outcome = error_kind(exc)
                # A permanent refusal (5xx) is not retried; anything else is, with the
                # same Message-ID (the listener stores a message once).
                if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
                    break
                time.sleep(min(2.0, 0.2 * 2 ** tries))
        if outcome == "accepted" and kind == "smtp-new":
            self.senders.add(sender)
        self.ledger.append(Attempt(kind, marker, outcome == "accepted", outcome,
                                   time.perf_counter() - t0, case_id, tries))


def screenshot() -> bytes:
    return make_png(30 * 1024)
