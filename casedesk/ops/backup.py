"""`casedesk backup PATH` and `casedesk restore PATH`: the database and the uploaded files
in one archive, taken and put back the safe way for each database.

An archive is a .tar.gz holding:

- `casedesk-backup.json`: what it is (format, database engine, when, the migrations
  applied, how many cases, messages and attachments it holds);
- the database: for SQLite a copy made with SQLite's online backup API (consistent while
  casedesk runs and writes, unlike copying the file and its write-ahead log); for
  PostgreSQL `pg_dump --format=custom`;
- `uploads/`: every attachment and logo (MEDIA_ROOT), copied after the database, so every
  file a row of the copy names is in the archive;
- `secret_key`, when the key is kept in the data directory (signed links and sessions stay
  valid after a restore).

A restore goes into an empty database, or, with `replace=True`, over an existing one
(every casedesk process stopped first). PostgreSQL restores in one transaction
(`pg_restore --single-transaction --exit-on-error`): a failed restore changes nothing. The
files are unpacked beside MEDIA_ROOT first and swapped in at the end; files already there
are moved aside, never deleted.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

MANIFEST = "casedesk-backup.json"
FORMAT = 1
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """Something the operator must fix; the message says what. Nothing was changed."""


def counts() -> dict[str, int]:
    from casedesk.tickets.models import Attachment, Message, Ticket

    return {
        "cases": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
    }


def applied_migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, name), name)
    return dict(sorted(latest.items()))


def _pg_command(program: str) -> tuple[list[str], dict[str, str]]:
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            f"{program} is not installed: install PostgreSQL's client programs (Debian: "
            "apt-get install postgresql-client), of the server's major version or newer."
        )
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = [found]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")


def _dump_database(engine: str, target: Path) -> None:
    db = settings.DATABASES["default"]
    if engine == "sqlite":
        # The online backup API copies a consistent snapshot page by page while other
        # processes keep writing (it restarts on a change made by another connection).
        source = sqlite3.connect(str(db["NAME"]), timeout=30)
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    else:
        base, env = _pg_command("pg_dump")
        _run([*base, "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(target), "--dbname", str(db["NAME"])], env, "pg_dump")


def engine_name() -> str:
    vendor = connection.vendor
    if vendor not in DATABASE_MEMBER:
        raise BackupError(f"casedesk backs up SQLite and PostgreSQL, not {vendor}.")
    return vendor


def backup(path: Path) -> dict[str, Any]:
    """Write the archive to `path` (which must not exist). Returns its manifest."""
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name.")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory.")
    engine = engine_name()
    media = Path(settings.MEDIA_ROOT)
    partial = path.with_name(f".{path.name}.partial")
    with tempfile.TemporaryDirectory(prefix="casedesk-backup-") as work:
        dump = Path(work) / DATABASE_MEMBER[engine]
        manifest: dict[str, Any] = {
            "format": FORMAT, "engine": engine, "created_at": timezone.now().isoformat(),
            "migrations": applied_migrations(), "counts": counts(),
        }
        # The database first, the files after: a file is stored before the row naming it
        # commits, so every file the copy names is already on disk when files are copied.
        _dump_database(engine, dump)
        try:
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(dump, arcname=dump.name)
                files = 0
                if media.is_dir():
                    for item in sorted(media.rglob("*")):
                        if item.is_file():
                            archive.add(item, arcname=f"uploads/{item.relative_to(media)}")
                            files += 1
                manifest["files"] = files
                key_file = Path(settings.DATA_DIR) / "secret_key"
                if not os.environ.get("CASEDESK_SECRET_KEY") and key_file.is_file():
                    archive.add(key_file, arcname="secret_key")
                    manifest["secret_key"] = True
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(timezone.now().timestamp())
                archive.addfile(info, io.BytesIO(data))
            # The archive holds the secret key and every customer's files.
            partial.chmod(0o600)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def read_manifest(archive: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
    except KeyError:
        member = None
    if member is None:
        raise BackupError(f"{path} is not a casedesk backup (no {MANIFEST} inside).")
    manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") != FORMAT or manifest.get("engine") not in DATABASE_MEMBER:
        raise BackupError(f"{path} is a casedesk backup of a format this version cannot read.")
    return manifest


def open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        return tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"{path} is not a casedesk backup ({error}).") from None


def existing_cases() -> int | None:
    """How many cases the database holds, or None when casedesk's tables are not there."""
    if "tickets_ticket" not in connection.introspection.table_names():
        return None
    from casedesk.tickets.models import Ticket

    return Ticket.objects.count()


@dataclass
class Restored:
    manifest: dict[str, Any]
    counts: dict[str, int]
    moved_aside: Path | None


def restore(path: Path, *, replace: bool = False) -> Restored:
    with open_archive(path) as archive:
        manifest = read_manifest(archive, path)
        engine = engine_name()
        if manifest["engine"] != engine:
            raise BackupError(
                f"{path} is a {manifest['engine']} backup; this casedesk uses {engine}. "
                "Restore it into the same kind of database."
            )
        present = existing_cases()
        if present is not None and not replace:
            raise BackupError(
                f"The database already holds casedesk data ({present} cases). Restore into "
                "an empty database, or pass --replace to replace it (stop every casedesk "
                "process first)."
            )
        media = Path(settings.MEDIA_ROOT)
        media.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=media.parent) as work:
            staging = Path(work)
            # filter="data" refuses absolute paths, "..", links out of the folder and
            # device files: an archive can only put plain files under the folder.
            archive.extractall(staging, filter="data")
            dump = staging / DATABASE_MEMBER[engine]
            if not dump.is_file():
                raise BackupError(f"{path} holds no database ({dump.name} is missing).")
            _load_database(engine, dump, replace=replace)
            moved = _swap_uploads(staging / "uploads", media)
            _restore_secret_key(staging / "secret_key")
    connections.close_all()
    return Restored(manifest, counts(), moved)


def _load_database(engine: str, dump: Path, *, replace: bool) -> None:
    db = settings.DATABASES["default"]
    connections.close_all()
    if engine == "sqlite":
        # Through the backup API into the live file: SQLite's own locking and journal
        # apply, and the write-ahead log of the old contents cannot be replayed over it.
        source = sqlite3.connect(str(dump))
        target = sqlite3.connect(str(db["NAME"]), timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        base, env = _pg_command("pg_restore")
        command = [*base, "--no-owner", "--no-privileges", "--single-transaction",
                   "--exit-on-error", "--dbname", str(db["NAME"])]
        if replace:
            command += ["--clean", "--if-exists"]
        _run([*command, str(dump)], env, "pg_restore")


def _swap_uploads(restored: Path, media: Path) -> Path | None:
    moved = None
    if media.exists() and any(media.iterdir()):
        moved = media.with_name(
            f"{media.name}.before-restore-{timezone.now():%Y%m%d-%H%M%S}"
        )
        media.rename(moved)
    elif media.exists():
        media.rmdir()
    if restored.is_dir():
        restored.rename(media)
    else:
        media.mkdir(parents=True)
    return moved


def _restore_secret_key(key: Path) -> None:
    if not key.is_file() or os.environ.get("CASEDESK_SECRET_KEY"):
        return
    target = Path(settings.DATA_DIR) / "secret_key"
    if target.is_file() and target.read_bytes() != key.read_bytes():
        target.rename(target.with_name("secret_key.before-restore"))
    shutil.copyfile(key, target)
    target.chmod(0o600)
