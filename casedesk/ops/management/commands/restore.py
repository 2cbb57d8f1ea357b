"""`casedesk restore PATH`: put a `casedesk backup` archive back (casedesk.ops.backup)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from casedesk.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `casedesk backup` into an empty database (or, with "
        "--replace, over this one). Stop every casedesk process first."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="The archive `casedesk backup` wrote.")
        parser.add_argument(
            "--replace", action="store_true",
            help="Replace the data this casedesk holds now (its uploaded files are moved "
                 "aside, not deleted).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"].expanduser().resolve()
        try:
            result = restore(path, replace=options["replace"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        expected, found = result.manifest["counts"], result.counts
        if expected != found:
            raise CommandError(
                f"Restored, but the database does not hold what the backup says: expected "
                f"{expected}, found {found}."
            )
        self.stdout.write(self.style.SUCCESS(
            f"Restored {found['cases']} cases, {found['messages']} messages and "
            f"{found['attachments']} attachments from {path} (taken "
            f"{result.manifest['created_at']})."
        ))
        if result.moved_aside is not None:
            self.stdout.write(f"The files that were here before are in {result.moved_aside}")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            self.stdout.write(
                f"This casedesk is newer than the backup: run `casedesk migrate` "
                f"({len(pending)} migration(s) to apply) before starting it."
            )
