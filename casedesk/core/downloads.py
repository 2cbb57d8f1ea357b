"""Serving files that people uploaded (attachments, the logo) without trusting them."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase

# Pages may show these in an <img> (an image's Content-Disposition does not matter there);
# opened on their own, like every other file, they are downloaded. SVG is not here: it can
# carry script.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def protect(response: HttpResponseBase) -> HttpResponseBase:
    """The file came from outside: the browser must not guess its type, and if it renders
    it, it renders it in a sandbox with no access to our origin."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


def content_disposition(filename: str) -> str:
    """`attachment` with the name twice (RFC 6266): `filename*` in UTF-8 (RFC 5987) for
    every browser of the last decade, and a plain-ASCII `filename` for the rest."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    fallback = _ascii(stem) or "download"
    if _ascii(extension):
        fallback = f"{fallback}.{_ascii(extension)}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _ascii(text: str) -> str:
    # Accents dropped (é -> e), other letters (Arabic) gone; quotes and slashes replaced.
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() or ch in " .-()" else "_" for ch in plain).strip(" ._")


def file_response(
    stored: FieldFile, *, content_type: str, cache_control: str, filename: str,
) -> HttpResponseBase:
    """The stored file as a download, with the type we detected when it arrived (never the
    sender's); 404 when it is gone from disk."""
    try:
        handle = stored.open("rb")
    except OSError:
        raise Http404("No such file.") from None
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename)
    response["Cache-Control"] = cache_control
    return protect(response)
