"""reverse() for the URLs written once per row: a case's desk link in every queue row and
SLA alert line, an invitation link for every new contact by email.

Such a URL differs from the next only by its one path argument, so the pattern is reversed
once per URL configuration and script prefix, with a stand-in that the argument then
replaces: reverse() resolving the pattern each time cost more than the rest of the row.
"""

from __future__ import annotations

import re

from django.urls import get_script_prefix, get_urlconf, reverse

# Not a Case ID, not a token_urlsafe token (neither has a "."), kept as it is in a path.
STAND_IN = "casedesk.slot"
# What reverse() puts in a path unchanged: a Case ID, a token_urlsafe token.
_AS_IS = re.compile(r"[A-Za-z0-9_-]+")

_paths: dict[tuple[str, str | None, str], str] = {}


def path_for(name: str, value: int | str) -> str:
    """reverse(name, args=[value]) for a pattern with one argument. A value that a path
    would not keep as it is (anything but letters, digits, "-" and "_") goes through
    reverse() itself."""
    text = str(value)
    if not _AS_IS.fullmatch(text):
        return reverse(name, args=[value])
    key = (name, get_urlconf(), get_script_prefix())
    template = _paths.get(key)
    if template is None:
        template = _paths[key] = reverse(name, args=[STAND_IN])
    return template.replace(STAND_IN, text)
