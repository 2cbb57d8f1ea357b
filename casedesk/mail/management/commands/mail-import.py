"""`casedesk mail-import PATH`: store the messages of an .eml file, an mbox or a Maildir.

For migrations and backfills. Each message goes through the same storage as mail received
over SMTP (casedesk.mail.intake), so a message already there (by Message-ID) is counted as
a duplicate and stored once; the background worker then processes what was stored.
"""

from __future__ import annotations

import mailbox
from argparse import ArgumentParser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casedesk.mail.intake import store_raw
from casedesk.mail.models import InboundMessage


def is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def messages_in(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, raw bytes) for each message at `path`, one at a time: a mailbox of any
    size is never read into memory whole."""
    box: mailbox.Mailbox
    if is_maildir(path):
        box = mailbox.Maildir(path, factory=None, create=False)
    elif path.is_dir():
        raise CommandError(
            f"{path} is a folder but not a Maildir (no cur/, new/ and tmp/ inside)."
        )
    elif is_mbox(path):
        box = mailbox.mbox(path, factory=None, create=False)
    else:
        yield str(path), path.read_bytes()
        return
    try:
        for key in box.iterkeys():
            yield f"{path} message {key}", box.get_bytes(key)
    finally:
        box.close()


class Command(BaseCommand):
    help = "Import mail from an .eml file, an mbox file or a Maildir folder."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="An .eml file, an mbox file or a Maildir.")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        stored = duplicates = errors = 0
        try:
            for where, raw in messages_in(path):
                try:
                    result = store_raw(raw, source=InboundMessage.Source.IMPORT)
                except Exception as exc:  # noqa: BLE001 - one bad message must not stop the rest
                    errors += 1
                    self.stderr.write(f"{where}: not imported: {type(exc).__name__}: {exc}")
                    continue
                if result.created:
                    stored += 1
                else:
                    duplicates += 1
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        summary = f"{stored} stored, {duplicates} duplicate(s), {errors} error(s)."
        if errors:
            raise CommandError(summary)
        self.stdout.write(summary)
