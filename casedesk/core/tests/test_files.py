"""Uploads are judged by their bytes: the name only has to agree with them."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.conftest import PNG_BYTES
from casedesk.core.files import check_upload, check_uploads, safe_filename

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 120


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("screenshot.png", PNG_BYTES, "image/png"),
        ("Photo.JPG", JPEG, "image/jpeg"),
        ("report.pdf", PDF, "application/pdf"),
        ("resolver.log", b"2026-11-26 10:00 query blocked\n", "text/plain"),
        ("export.csv", "name,ملاحظة\nx,y\n".encode(), "text/csv"),
        (
            "notes.docx",
            docx_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_files_whose_content_matches_their_name_are_accepted(name, data, content_type):
    checked = check_upload(upload(name, data))
    assert checked.content_type == content_type
    assert checked.size == len(data)
    assert len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.png", b"", "is empty"),
        ("tool.png", WINDOWS_EXE, "does not contain what its name says"),
        ("daemon.jpg", ELF, "does not contain what its name says"),
        ("fake.pdf", PNG_BYTES, "does not contain what its name says"),
        ("readme.txt", ELF, "is not a text file"),
        ("setup.exe", WINDOWS_EXE, "not a type we accept"),
        ("script.sh", b"#!/bin/sh\nrm -rf /\n", "not a type we accept"),
        ("noextension", b"hello", "not a type we accept"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused_with_a_reason(name, data, message):
    with pytest.raises(ValidationError, match=message):
        check_upload(upload(name, data))


def test_a_file_over_the_limit_is_refused_naming_the_limit(settings):
    settings.CASEDESK_MAX_ATTACHMENT_BYTES = 1024
    with pytest.raises(ValidationError) as caught:
        check_upload(upload("big.log", b"a" * 2048))
    assert caught.value.messages == ["“big.log” is 2.0\xa0KB; each file may be at most 1.0\xa0KB."]


def test_too_many_files_are_refused_before_any_is_read(settings):
    settings.CASEDESK_MAX_ATTACHMENTS = 2
    with pytest.raises(ValidationError, match="at most 2 files"):
        check_uploads([upload(f"{i}.png", PNG_BYTES) for i in range(3)])


def test_every_bad_file_in_a_set_is_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        check_uploads([upload("a.png", b""), upload("b.png", PNG_BYTES), upload("c.pdf", b"x")])
    assert len(caught.value.messages) == 2


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\noor\\shot.png", "shot.png"),
        ('a"<b>.png', "ab.png"),
        ("...", "file"),
    ],
)
def test_the_senders_file_name_is_reduced_to_a_safe_last_part(given, kept):
    assert safe_filename(given) == kept
