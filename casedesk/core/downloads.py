"""Serving files that people uploaded (attachments, the logo) without trusting them."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase

# Shown in the browser; anything else is downloaded. SVG is not here: it can carry script.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def protect(response: HttpResponseBase) -> HttpResponseBase:
    """The file came from outside: the browser must not guess its type, and if it renders
    it, it renders it in a sandbox with no access to our origin."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


def file_response(
    stored: FieldFile, *, content_type: str, cache_control: str, filename: str | None = None,
) -> HttpResponseBase:
    """The stored file with the type we detected when it arrived (never the sender's),
    inline for plain images and as a download for everything else; 404 when it is gone
    from disk."""
    try:
        handle = stored.open("rb")
    except OSError:
        raise Http404("No such file.") from None
    inline = content_type in INLINE_IMAGE_TYPES
    response = FileResponse(
        handle, content_type=content_type, as_attachment=not inline and filename is not None,
        filename=filename or "",
    )
    response["Cache-Control"] = cache_control
    return protect(response)
