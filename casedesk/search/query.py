"""What an agent typed in the search box, read into terms the engines can match.

- Words are ANDed: every word must appear somewhere in the document.
- Words in double quotes (or “…”, «…») must appear together, in that order.
- The last word, when it is not quoted and has at least PREFIX_MIN letters, also matches
  as the beginning of a word ("filt" finds "filtering"), so results make sense while the
  agent is still typing.
- Punctuation, symbols and emoji are not searchable; a search of only those, or one longer
  than MAX_LENGTH, is refused with a message that says why (SearchError).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext

from casedesk.search.normalize import MAX_WORD, normalize, words

MAX_LENGTH = 500
MAX_TERMS = 12
PREFIX_MIN = 3
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "＂": '"'})
_PHRASE = re.compile(r'"([^"]*)"')
_CASE_ID = re.compile(r"#?\s*(\d{1,18})")


class SearchError(ValueError):
    """A search that cannot be run; the message is for the person who typed it."""


@dataclass(frozen=True)
class Term:
    """One or more words that must appear in this order; `prefix`: the last one may be
    the beginning of a longer word."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[Term, ...]

    def words(self) -> set[str]:
        return {word for term in self.terms for word in term.words}

    def prefixes(self) -> set[str]:
        return {term.words[-1] for term in self.terms if term.prefix}

    def exact(self) -> Query:
        """The same search with no word matching as a prefix."""
        return Query(self.text, tuple(Term(term.words) for term in self.terms))


def case_id(text: str) -> int | None:
    """The Case ID the search is, if it is only a number (a leading # is allowed, and
    Arabic-Indic digits count)."""
    match = _CASE_ID.fullmatch(normalize(text.strip()))
    return int(match.group(1)) if match else None


def parse(text: str) -> Query:
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise SearchError(gettext(
            "A search can be at most %(max)s characters long (this one has %(length)s). "
            "Search for a few distinctive words instead."
        ) % {"max": f"{MAX_LENGTH:,}", "length": f"{len(text):,}"})
    terms: list[Term] = []
    last_is_word = False
    pieces = _PHRASE.split(text.translate(_QUOTES))
    # split() alternates: text outside quotes, text inside, outside, ...; a quote left
    # open has no partner, so it is simply not a phrase.
    for position, piece in enumerate(pieces):
        found = words(piece.replace('"', " "))
        if position % 2:
            if found:
                terms.append(Term(tuple(found)))
                last_is_word = False
        elif found:
            terms.extend(Term((word,)) for word in found)
            last_is_word = True
    if not terms:
        if any(len(w) > MAX_WORD for w in re.findall(r"[^\W_]+", normalize(text))):
            raise SearchError(gettext(
                "Words longer than %(max)s characters are not searchable. "
                "Search for a few ordinary words instead."
            ) % {"max": MAX_WORD})
        raise SearchError(gettext(
            "Nothing to search for: type a word, a name, an email address or a Case ID "
            "(punctuation and symbols alone are not searchable)."
        ))
    last = terms[-1]
    if last_is_word and len(last.words[0]) >= PREFIX_MIN:
        terms[-1] = Term(last.words, prefix=True)
    unique = list(dict.fromkeys(terms))
    if len(unique) > MAX_TERMS:
        raise SearchError(gettext(
            "A search can have at most %(max)s words (this one has %(count)s). "
            "Keep the most distinctive ones."
        ) % {"max": MAX_TERMS, "count": len(unique)})
    return Query(text=text, terms=tuple(unique))
