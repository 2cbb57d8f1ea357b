"""`casedesk backup PATH`: the database and every uploaded file in one archive
(casedesk.ops.backup). Safe while casedesk runs."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casedesk.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and the uploaded files to PATH (a new .tar.gz file)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="The archive to write (must not exist).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"].expanduser().resolve()
        try:
            manifest = backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        n = manifest["counts"]
        self.stdout.write(self.style.SUCCESS(
            f"Backed up {n['cases']} cases, {n['messages']} messages and "
            f"{n['attachments']} attachments ({manifest['files']} files, "
            f"{manifest['engine']}) to {path}"
        ))
