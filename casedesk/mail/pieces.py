"""Mail templates rendered once per language, then filled in: the acknowledgement and the
invitation every case opened by email queues (issue 4's throughput target, 500 messages/s)
cost ~1.8 ms per received message through Django's template engine, as much as parsing,
threading and storing a reply together.

A template listed in LAYOUTS is rendered once per language, time zone and shape of its
context with a stand-in for every value, and the text around the stand-ins is kept; a mail
is then that text with the values put back, each as the template would have written it
(render_value_in_context: localized, and escaped where the template escapes). The template
stays the one source of the mail's wording, and what a customer receives is what the
template renders (casedesk/mail/tests/test_pieces.py compares both in English and Arabic).

Only flat contexts qualify: strings, numbers and lazy translations are values put back;
None, booleans and empty strings, which decide `{% if %}` branches, are part of the shape.
A template listed here may print its values only as they are, or through the filters its
layout names (a filter that changed a value would change the stand-in too, and go unseen).
Anything else goes through the engine as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.template import Context
from django.template.base import render_value_in_context
from django.template.defaultfilters import urlize
from django.template.loader import get_template
from django.template.loader import render_to_string as engine_render
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeData, SafeString, mark_safe


@dataclass(frozen=True)
class Layout:
    # Values the template needs as they are, not as a stand-in (a plural's count): part of
    # the shape.
    fixed: frozenset[str] = frozenset()
    # Values the template prints through a filter: how to print them, escaped.
    filters: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)


# Words of the mails' text, and the whitespace between them, each with its urlized HTML.
URLIZED_WORDS = 4096
_SPACES = re.compile(r"(\s+)")


@lru_cache(maxsize=URLIZED_WORDS)
def _urlized_word(word: str, safe: bool) -> str:
    return str(urlize(mark_safe(word) if safe else word, autoescape=True))  # noqa: S308 - safe as given


def _urlized(value: Any) -> str:
    """`value|urlize`, word by word, most words of a mail being the same in every mail of
    its language: only its own (a name, a Case ID, the invitation's link and address) are
    urlized each time. Line by line, as before, urlized every line holding one of those
    again (~0.5 ms per invitation, about all of it the link and the address). Equal to
    urlizing the whole text: urlize splits the text at runs of whitespace, quotes and angle
    brackets and maps each word and each run on its own, so splitting it first at the runs
    of whitespace changes nothing."""
    safe = isinstance(value, SafeData)
    return "".join(_urlized_word(word, safe) for word in _SPACES.split(str(value)) if word)


LAYOUTS: dict[str, Layout] = {
    "tickets/mail/acknowledgement.txt": Layout(),
    "tickets/mail/acknowledgement.html": Layout(),
    "accounts/mail/invitation.txt": Layout(fixed=frozenset({"days"})),
    "mail/text.html": Layout(filters={"text": _urlized}),
}

# A stand-in: a NUL no template holds, its number, and an ampersand, which escaping turns
# into &amp; and so tells where the template escapes the value.
_STAND_IN = re.compile("\x00(\\d+)&(amp;)?\x00")
# Shapes kept per process: languages x time zones x branches, a few dozen in practice;
# beyond this many (a flood of zones) the cache starts again rather than grow.
MAX_SHAPES = 256
_RAW = Context(autoescape=False)
_ESCAPED = Context(autoescape=True)

Piece = str | tuple[str, bool]  # literal text, or (the context's name, escaped?)
_shapes: dict[tuple[Any, ...], list[Piece] | None] = {}
_UNKNOWN: list[Piece] = []


def _is_value(value: Any) -> bool:
    """Put back per mail: a non-empty string or lazy translation, a number other than 0
    (an empty one decides a branch: it is part of the shape)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return value != ""
    return isinstance(value, Promise) and str(value) != ""


def _shape_key(template: str, context: Mapping[str, Any], layout: Layout) -> tuple[Any, ...] | None:
    """The cache key of this context's shape, or None when the context does not qualify."""
    shape: list[tuple[Any, ...]] = []
    for name in sorted(context):
        value = context[name]
        if name not in layout.fixed and _is_value(value):
            shape.append((name, True))
        elif value is None or isinstance(value, bool | int | str):
            shape.append((name, False, value))
        else:
            return None  # an object: the template may read its attributes
    return (template, translation.get_language(), timezone.get_current_timezone_name(),
            *shape)


def _pieces(template: str, context: Mapping[str, Any], layout: Layout) -> list[Piece] | None:
    """The template rendered with stand-ins, cut at them; None if a stand-in came out
    changed (the template filters a value: it must go through the engine every time)."""
    names = [n for n in context if n not in layout.fixed and _is_value(context[n])]
    stand_ins = {name: f"\x00{n}&\x00" for n, name in enumerate(names)}
    text = get_template(template).render({**context, **stand_ins})
    pieces: list[Piece] = []
    at = 0
    for match in _STAND_IN.finditer(text):
        pieces.append(text[at:match.start()])
        n = int(match.group(1))
        if n >= len(names):
            return None
        pieces.append((names[n], match.group(2) is not None))
        at = match.end()
    pieces.append(text[at:])
    if any(isinstance(p, str) and "\x00" in p for p in pieces):
        return None
    return [p for p in pieces if p != ""]


def _write(value: Any, piece: tuple[str, bool], layout: Layout) -> str:
    """`value` as the template prints it where `piece` stands."""
    name, escaped = piece
    if escaped and name in layout.filters:
        return layout.filters[name](value)
    if type(value) is str:
        # What render_value_in_context does to a plain string, without its checks for
        # dates and numbers.
        return str(escape(value)) if escaped else value
    return str(render_value_in_context(value, _ESCAPED if escaped else _RAW))


def render_to_string(template: str, context: dict[str, Any]) -> SafeString:
    """What django.template.loader.render_to_string(template, context) returns, from the
    template's pieces when it has a layout and the context is flat: safe text, as the
    engine's (mail/text.html shows it as it is)."""
    layout = LAYOUTS.get(template)
    key = _shape_key(template, context, layout) if layout is not None else None
    if layout is None or key is None:
        return SafeString(engine_render(template, context))
    # Read once: another thread may clear the cache between two reads.
    pieces = _shapes.get(key, _UNKNOWN)
    if pieces is _UNKNOWN:
        if len(_shapes) >= MAX_SHAPES:
            _shapes.clear()
        pieces = _shapes[key] = _pieces(template, context, layout)
    if pieces is None:
        return SafeString(engine_render(template, context))
    out = []
    # A value printed several times (the Case ID, four) is written once.
    written: dict[Piece, str] = {}
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        text = written.get(piece)
        if text is None:
            text = written[piece] = _write(context[piece[0]], piece, layout)
        out.append(text)
    return mark_safe("".join(out))  # noqa: S308 - the template's text, values as it wrote them
