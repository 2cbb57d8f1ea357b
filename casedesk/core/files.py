"""Checking uploaded files by their content, not by the name the sender gave them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

# Extension -> the MIME types its content may be detected as. An empty set marks a text
# format: it has no magic number, so it must read as text instead.
OOXML = "application/vnd.openxmlformats-officedocument"
ALLOWED: dict[str, set[str]] = {
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "webp": {"image/webp"},
    "bmp": {"image/bmp"},
    "tif": {"image/tiff"},
    "tiff": {"image/tiff"},
    "pdf": {"application/pdf"},
    "zip": {"application/zip"},
    "gz": {"application/gzip"},
    "7z": {"application/x-7z-compressed"},
    "docx": {
        "application/zip",
        f"{OOXML}.wordprocessingml.document",
    },
    "xlsx": {
        "application/zip",
        f"{OOXML}.spreadsheetml.sheet",
    },
    "pptx": {
        "application/zip",
        f"{OOXML}.presentationml.presentation",
    },
    "odt": {"application/zip", "application/vnd.oasis.opendocument.text"},
    "ods": {"application/zip", "application/vnd.oasis.opendocument.spreadsheet"},
    "pcap": {"application/vnd.tcpdump.pcap"},
    "txt": set(),
    "log": set(),
    "csv": set(),
    "json": set(),
    "xml": set(),
    "eml": set(),
    "har": set(),
}
TEXT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xml": "text/xml",
    "eml": "message/rfc822",
}
PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x0a\x0d\x0d\x0a", b"\x4d\x3c\xb2\xa1"}
HEAD_BYTES = 8192


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    filename: str
    content_type: str
    size: int
    sha256: str


def safe_filename(name: str) -> str:
    """The last path part of the sender's name, without control characters, at most 200."""
    base = PurePath(name.replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    return cleaned.strip(" .")[:200] or "file"


def check_upload(upload: UploadedFile) -> CheckedFile:
    """Accept a file only if its content is what its name says, within the size limit."""
    filename = safe_filename(upload.name or "")
    size = upload.size or 0
    limit = settings.CASEDESK_MAX_ATTACHMENT_BYTES
    if size == 0:
        raise ValidationError(f"“{filename}” is empty (0 bytes). Attach the file again.")
    if size > limit:
        raise ValidationError(
            f"“{filename}” is {filesizeformat(size)}; each file may be at most "
            f"{filesizeformat(limit)}."
        )
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension not in ALLOWED:
        allowed = ", ".join(sorted(ALLOWED))
        raise ValidationError(f"“{filename}” is not a type we accept. Accepted types: {allowed}.")
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    detected = detected_type(head)
    expected = ALLOWED[extension]
    if expected:
        if detected not in expected:
            raise ValidationError(
                f"“{filename}” does not contain what its name says (.{extension}). "
                "Attach the original file."
            )
        content_type = detected or "application/octet-stream"
        if content_type == "application/zip" and extension != "zip":
            content_type = next(t for t in sorted(expected) if t != "application/zip")
    else:
        if detected is not None or b"\x00" in head:
            raise ValidationError(
                f"“{filename}” is not a text file, as its name (.{extension}) says. "
                "Attach the original file."
            )
        content_type = TEXT_TYPES.get(extension, "text/plain")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(upload, filename, content_type, size, digest.hexdigest())


def detected_type(head: bytes) -> str | None:
    if head[:4] in PCAP_MAGIC:
        return "application/vnd.tcpdump.pcap"
    kind = filetype.guess(head)
    return kind.mime if kind is not None else None


def check_uploads(uploads: list[UploadedFile]) -> list[CheckedFile]:
    """Check a whole set; every problem is reported at once, as one list of messages."""
    limit = settings.CASEDESK_MAX_ATTACHMENTS
    if len(uploads) > limit:
        raise ValidationError(f"Attach at most {limit} files at once; you chose {len(uploads)}.")
    checked: list[CheckedFile] = []
    errors: list[ValidationError] = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return checked


# The files stored inside the innermost removed_on_failure() block, if any.
_stored: ContextVar[list[str] | None] = ContextVar("casedesk_stored_files", default=None)


def remove_files(paths: list[str]) -> None:
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass


def note_stored(path: str) -> None:
    """A file was written for a transaction that has not committed yet
    (casedesk.tickets.actions.store_attachments)."""
    journal = _stored.get()
    if journal is not None:
        journal.append(path)


@contextmanager
def removed_on_failure() -> Iterator[list[str]]:
    """Files stored inside are removed again when the block raises. Around a transaction
    whose rollback would leave them on disk with no row pointing at them: the inbound
    job's batch of messages, rolled back whole when one fails and then processed again one
    by one, wrote each attachment of the others a second time. On success they pass to the
    enclosing block, whose transaction may still roll back."""
    journal: list[str] = []
    token = _stored.set(journal)
    try:
        yield journal
    except BaseException:
        remove_files(journal)
        raise
    finally:
        _stored.reset(token)
    outer = _stored.get()
    if outer is not None:
        outer.extend(journal)
