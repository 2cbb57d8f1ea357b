"""The mail listener: SMTP (and LMTP) on aiosmtpd, storing what it accepts.

It says yes only to what casedesk will keep: recipients other than the support addresses
get 550 at RCPT, messages over CASEDESK_MAX_MESSAGE_BYTES get 552 (SIZE is advertised, so
a polite client does not even send them), and 250 comes only after the message's row is
committed (casedesk.mail.intake.store_raw). If the database cannot take it, the answer is
451, and the sending server keeps the message and tries again later: accepted bytes are
never lost, and refused ones are still the sender's. Turning messages into cases is the
processing job's (casedesk.mail.inbound_jobs), not the listener's.

The event loop only talks SMTP; each store runs in a small thread pool, so a slow commit
(SQLite's write lock, a PostgreSQL failover) never stalls the other conversations.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections

from casedesk.mail.intake import Stored, store_raw

log = logging.getLogger(__name__)

STORE_THREADS = 4
# On shutdown, messages being stored get this long to be committed and answered.
DRAIN_SECONDS = 20


@dataclass(frozen=True)
class Endpoint:
    protocol: str  # "smtp" or "lmtp"
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.protocol}://{host}:{self.port}"


def parse_listen(value: str, setting: str, protocol: str) -> Endpoint:
    """`host:port` or `[v6 address]:port` into an Endpoint, or a message naming the
    setting."""
    host, sep, port_text = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not sep or not host or not 0 < port < 65536:
        raise ImproperlyConfigured(
            f"{setting} must be host:port (e.g. 127.0.0.1:2525, or [::1]:2525), got {value!r}"
        )
    return Endpoint(protocol, host, port)


def configured_endpoints() -> list[Endpoint]:
    endpoints = [parse_listen(settings.CASEDESK_SMTP_LISTEN, "CASEDESK_SMTP_LISTEN", "smtp")]
    if settings.CASEDESK_LMTP_LISTEN:
        endpoints.append(
            parse_listen(settings.CASEDESK_LMTP_LISTEN, "CASEDESK_LMTP_LISTEN", "lmtp")
        )
    return endpoints


def support_addresses() -> list[str]:
    """Every address mail is accepted for, lower-cased, the main one first."""
    found: list[str] = []
    for address in [settings.CASEDESK_SUPPORT_EMAIL, *settings.CASEDESK_SUPPORT_ADDRESSES]:
        address = address.strip().lower()
        if address and address not in found:
            found.append(address)
    return found


def store_in_thread(raw: bytes, source: str, envelope_from: str, envelope_to: list[str]) -> Stored:
    # A connection broken since the last message (database restarted) is replaced here
    # rather than failing this message.
    close_old_connections()
    return store_raw(raw, source=source, envelope_from=envelope_from, envelope_to=envelope_to)


class Intake:
    """aiosmtpd's handler: the recipient check, and the store before the 250."""

    def __init__(self, listener: MailListener, source: str) -> None:
        self.listener = listener
        self.source = source

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.strip().lower() not in self.listener.addresses:
            return (
                f"550 5.1.1 <{address}>: no such mailbox here. This server takes mail for "
                f"{', '.join(self.listener.addresses)} only"
            )
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.listener.begin_store()
        try:
            stored = await asyncio.get_running_loop().run_in_executor(
                self.listener.executor,
                partial(store_in_thread, raw, self.source, envelope.mail_from or "",
                        list(envelope.rcpt_tos)),
            )
        except Exception:  # noqa: BLE001 - whatever failed, the message is not ours yet
            log.exception("Could not store a message from %s; answered 451", envelope.mail_from)
            reply = "451 4.3.0 The message could not be stored just now; please try again later"
        else:
            what = "Stored" if stored.created else "Already stored"
            reply = f"250 2.0.0 {what} as inbound message {stored.inbound.pk}"
        finally:
            self.listener.end_store()
        if self.source == "lmtp":
            # LMTP answers DATA once per accepted recipient (RFC 2033); one row serves all.
            return "\r\n".join([reply] * max(1, len(envelope.rcpt_tos)))
        return reply


class MailListener:
    """The SMTP/LMTP servers on one event loop. `run()` blocks until `stop()` (callable
    from any thread or a signal handler); `ready` is set once every endpoint listens."""

    def __init__(self, endpoints: Iterable[Endpoint], *, addresses: list[str] | None = None,
                 max_bytes: int | None = None, hostname: str | None = None,
                 on_ready: Callable[[MailListener], None] | None = None) -> None:
        self.endpoints = list(endpoints)
        self.addresses = addresses if addresses is not None else support_addresses()
        self.max_bytes = max_bytes or settings.CASEDESK_MAX_MESSAGE_BYTES
        self.hostname = hostname or self.addresses[0].rpartition("@")[2] or "casedesk"
        self.executor = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="casedesk-mail-in")
        self.ready = threading.Event()
        self.on_ready = on_ready
        self.loop: asyncio.AbstractEventLoop | None = None
        # asyncio events bind to the loop that first waits on them: the one serve() runs.
        self.stopping = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.in_flight = 0
        self.stop_requested = False

    def begin_store(self) -> None:
        self.in_flight += 1
        self.idle.clear()

    def end_store(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.idle.set()

    def protocol_factory(self, endpoint: Endpoint) -> SMTP:
        server_class = LMTP if endpoint.protocol == "lmtp" else SMTP
        return server_class(
            Intake(self, endpoint.protocol),
            data_size_limit=self.max_bytes,
            enable_SMTPUTF8=True,
            hostname=self.hostname,
            ident="casedesk",
            loop=self.loop,
        )

    async def serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        if self.stop_requested:
            return
        servers: list[asyncio.Server] = []
        try:
            for endpoint in self.endpoints:
                try:
                    servers.append(await self.loop.create_server(
                        partial(self.protocol_factory, endpoint), endpoint.host, endpoint.port,
                    ))
                except OSError as exc:
                    setting = f"CASEDESK_{endpoint.protocol.upper()}_LISTEN"
                    raise ImproperlyConfigured(
                        f"Cannot listen for mail on {endpoint}: {exc.strerror or exc}. Is "
                        f"another mail server running there? Set {setting} to another "
                        "host:port."
                    ) from None
            self.ready.set()
            if self.on_ready is not None:
                self.on_ready(self)
            await self.stopping.wait()
        finally:
            for server in servers:
                server.close()
            # New connections are refused from here; messages being stored still get
            # their answer, so a sender is never left guessing about a committed message.
            try:
                await asyncio.wait_for(self.idle.wait(), DRAIN_SECONDS)
            except TimeoutError:
                log.warning("Stopped with %s message(s) still being stored", self.in_flight)

    def run(self) -> None:
        try:
            asyncio.run(self.serve())
        finally:
            self.close_connections()
            self.executor.shutdown(wait=True)

    def stop(self) -> None:
        self.stop_requested = True
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.stopping.set)

    def close_connections(self) -> None:
        """Close the database connection of each store thread (Django keeps one per
        thread), so that none is left for the server to time out."""
        barrier = threading.Barrier(STORE_THREADS, timeout=5)

        def close() -> None:
            connections.close_all()
            try:
                # Every thread waits here, so each of them runs exactly one close().
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

        for _ in range(STORE_THREADS):
            self.executor.submit(close)
