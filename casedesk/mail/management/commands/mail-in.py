"""`casedesk mail-in`: receive mail over SMTP (and LMTP), until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from casedesk.mail.listener import MailListener, configured_endpoints, parse_listen


class Command(BaseCommand):
    help = (
        "Receive mail for the support addresses over SMTP (CASEDESK_SMTP_LISTEN) and LMTP "
        "(CASEDESK_LMTP_LISTEN), storing each message for the background worker."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--smtp", metavar="HOST:PORT",
            help="Listen for SMTP here instead of CASEDESK_SMTP_LISTEN.",
        )
        parser.add_argument(
            "--lmtp", metavar="HOST:PORT",
            help="Also listen for LMTP here (instead of CASEDESK_LMTP_LISTEN).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            endpoints = configured_endpoints()
            if options["smtp"]:
                endpoints[0] = parse_listen(options["smtp"], "--smtp", "smtp")
            if options["lmtp"]:
                endpoints = [e for e in endpoints if e.protocol != "lmtp"]
                endpoints.append(parse_listen(options["lmtp"], "--lmtp", "lmtp"))
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        listener = MailListener(endpoints, on_ready=self.announce)

        def request_stop(signum: int, frame: FrameType | None) -> None:
            listener.stop()

        previous = {
            signum: signal.signal(signum, request_stop)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            listener.run()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write("mail-in stopped.")

    def announce(self, listener: MailListener) -> None:
        where = ", ".join(str(e) for e in listener.endpoints)
        self.stdout.write(
            f"Receiving mail for {', '.join(listener.addresses)} on {where} "
            f"(up to {listener.max_bytes} bytes a message)."
        )
        self.stdout.flush()
