"""`casedesk backup` and `casedesk restore` as an operator runs them, on the database the
suite runs on (SQLite, or PostgreSQL with CASEDESK_DATABASE_URL): seed cases with
attachments, back up, wipe everything, restore, and every case, message and file is back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import urllib.parse
from pathlib import Path

import dj_database_url
import psycopg

from casedesk.core.tests.test_serve import CASEDESK
from casedesk.core.tests.test_serve import site as site  # noqa: F401 - the fixture

SEED = """
from django.core.files.uploadedfile import SimpleUploadedFile
from casedesk.conftest import make_agent, make_case, make_contact, make_org, png_upload
from casedesk.core.files import check_upload
from casedesk.tickets.actions import add_message
org = make_org()
agent = make_agent()
for n in range(3):
    contact = make_contact(org)
    case = make_case(contact, subject=f"Case number {n}", files=[png_upload(f"shot{n}.png")])
    add_message(case.ticket.pk, agent, f"Answer {n}", [check_upload(SimpleUploadedFile(
        f"log{n}.txt", f"log file {n}\\n".encode() * (n + 1), content_type="text/plain"))])
"""

SNAPSHOT = """
import hashlib, json
from casedesk.tickets.models import Ticket
print(json.dumps([
    {"id": t.pk, "subject": t.subject,
     "messages": [m.body for m in t.messages.order_by("pk")],
     "files": sorted((a.filename, hashlib.sha256(a.file.read()).hexdigest())
                     for a in t.attachments.all())}
    for t in Ticket.objects.order_by("pk")
]))
"""


def casedesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CASEDESK, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def snapshot(env: dict[str, str]) -> list[dict[str, object]]:
    result = casedesk(env, "shell", "-v", "0", "-c", SNAPSHOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def wipe(env: dict[str, str]) -> None:
    """Everything gone: the database emptied (PostgreSQL: dropped and created again, as on
    a new server) and the data directory deleted."""
    url = env.get("CASEDESK_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        config = dj_database_url.parse(url)
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        with psycopg.connect(host=config["HOST"], port=config["PORT"] or 5432,
                             user=config["USER"], dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    shutil.rmtree(env["CASEDESK_DATA_DIR"])


def test_backup_wipe_restore_brings_every_case_message_and_file_back(
    site: dict[str, str], tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    # Given three cases, each with a screenshot and an answer with a log file
    seeded = casedesk(site, "shell", "-v", "0", "-c", SEED)
    assert seeded.returncode == 0, seeded.stderr
    before = snapshot(site)
    assert len(before) == 3 and all(len(case["files"]) == 2 for case in before)  # type: ignore[arg-type]

    # When the operator backs up
    archive = tmp_path / "casedesk.tar.gz"
    made = casedesk(site, "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert "Backed up 3 cases" in made.stdout and "6 attachments" in made.stdout
    assert archive.stat().st_mode & 0o077 == 0

    # And everything is lost
    wipe(site)
    assert not Path(site["CASEDESK_DATA_DIR"]).exists()

    # And the operator restores into the new, empty installation
    restored = casedesk(site, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "Restored 3 cases" in restored.stdout

    # Then every case, message and file is back, byte for byte
    assert snapshot(site) == before
    # And the installation is usable: nothing left to migrate
    check = casedesk(site, "migrate", "--check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_restore_refuses_to_overwrite_data_unless_told(
    site: dict[str, str], tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    # Given a backup of an installation with one case, and then a second case
    assert casedesk(site, "shell", "-v", "0", "-c",
                    "from casedesk.conftest import make_case; make_case()").returncode == 0
    archive = tmp_path / "one.tar.gz"
    assert casedesk(site, "backup", str(archive)).returncode == 0
    assert casedesk(site, "shell", "-v", "0", "-c",
                    "from casedesk.conftest import make_case; make_case()").returncode == 0
    two = snapshot(site)

    # When restoring over it without --replace: refused, nothing changed
    refused = casedesk(site, "restore", str(archive))
    assert refused.returncode == 1
    assert "already holds casedesk data (2 cases)" in refused.stderr
    assert snapshot(site) == two

    # And backing up over an existing file is refused too
    again = casedesk(site, "backup", str(archive))
    assert again.returncode == 1 and "already exists" in again.stderr

    # When restoring with --replace, the installation is back at one case
    replaced = casedesk(site, "restore", "--replace", str(archive))
    assert replaced.returncode == 0, replaced.stderr
    assert snapshot(site) == two[:1]


def test_restore_refuses_what_is_not_a_backup(
    site: dict[str, str], tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    not_tar = tmp_path / "notes.tar.gz"
    not_tar.write_text("hello")
    foreign = tmp_path / "other.tar.gz"
    with tarfile.open(foreign, "w:gz") as archive:
        archive.add(not_tar, arcname="database.sqlite3")

    for path, message in [(tmp_path / "missing.tar.gz", "does not exist"),
                          (not_tar, "is not a casedesk backup"),
                          (foreign, "is not a casedesk backup (no casedesk-backup.json")]:
        result = casedesk(site, "restore", "--replace", str(path))
        assert result.returncode == 1
        assert message in result.stderr
