"""The text shown under a search result: the passage that matches, with the matching words
in <mark>, everything else HTML-escaped.

Built in Python from the original text for the page's results only (25 at most), with the
same normalization as the index: so the snippet shows the words as they were written
(capitals, Arabic diacritics and all), marks a word however it was typed, and looks the
same on SQLite and PostgreSQL. The engines' own snippet functions would show the
normalized text the index holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from casedesk.search.normalize import words
from casedesk.search.query import Query

# A written word, with the marks inside it that normalization drops (Arabic diacritics,
# tatweel, combining accents), so that a word is found whole.
_SPAN = re.compile(
    "(?:[^\\W_]|[\u0640\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0300-\u036f])+"
)
BEFORE = 80
LENGTH = 260


@dataclass(frozen=True)
class Passage:
    """A piece of a thing's text a snippet may come from: a message, say."""

    text: str
    label: str = ""
    anchor: str = ""


@dataclass(frozen=True)
class Snippet:
    html: SafeString
    label: str
    anchor: str


@lru_cache(maxsize=8192)
def _words(span: str) -> tuple[str, ...]:
    # The same few thousand words make up most text: normalize each once per process.
    return tuple(words(span))


class Matcher:
    def __init__(self, query: Query) -> None:
        self.words = query.words()
        self.prefixes = tuple(query.prefixes())

    def word(self, word: str) -> bool:
        return word in self.words or (bool(self.prefixes) and word.startswith(self.prefixes))

    def found(self, text: str) -> set[str]:
        """The query's words (or the words its prefix matched) that `text` contains."""
        return {w for w in set(words(text)) if self.word(w)}

    def spans(self, text: str, start: int = 0, end: int | None = None) -> list[re.Match[str]]:
        return [
            span for span in _SPAN.finditer(text, start, len(text) if end is None else end)
            if any(self.word(w) for w in _words(span.group()))
        ]


def marked(text: str, spans: list[re.Match[str]], start: int, end: int) -> str:
    """text[start:end], escaped, with `spans` in <mark>, whitespace runs as one space."""
    out: list[str] = []
    at = start
    for span in spans:
        out.append(escape(text[at:span.start()]))
        out.append(f"<mark>{escape(span.group())}</mark>")
        at = span.end()
    out.append(escape(text[at:end]))
    return re.sub(r"\s+", " ", "".join(out))


def highlight(text: str, matcher: Matcher) -> SafeString:
    """All of `text` with its matching words marked (for a subject or a name)."""
    return mark_safe(marked(text, matcher.spans(text), 0, len(text)))  # noqa: S308


def fragment(text: str, matcher: Matcher) -> SafeString:
    """About LENGTH characters of `text` around its first match (its beginning if none)."""
    first = next(iter(matcher.spans(text, 0, None)), None) if text else None
    start = 0
    if first is not None and first.start() > BEFORE:
        # Start at a word boundary a little before the match.
        start = text.find(" ", first.start() - BEFORE, first.start()) + 1 or first.start()
    end = min(len(text), start + LENGTH)
    if end < len(text):
        cut = text.rfind(" ", start + LENGTH // 2, end)
        end = cut if cut > 0 else end
    html = marked(text, matcher.spans(text, start, end), start, end).strip()
    return mark_safe(  # noqa: S308 - every piece of text went through escape()
        ("… " if start else "") + html + (" …" if end < len(text) else "")
    )


def best(passages: list[Passage], matcher: Matcher) -> Snippet | None:
    """The snippet of the passage that holds the most of the query's words (the earliest
    of equals); the first passage's beginning when none holds any."""
    if not passages:
        return None
    scored = [(len(matcher.found(p.text)), -n, p) for n, p in enumerate(passages)]
    score, _, chosen = max(scored, key=lambda item: item[:2])
    if score == 0:
        chosen = passages[0]
    return Snippet(html=fragment(chosen.text, matcher), label=chosen.label,
                   anchor=chosen.anchor)
