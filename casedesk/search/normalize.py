"""The one definition of how text is compared when searching: indexed text and the words
typed in the search box both go through `words()`, so SQLite and PostgreSQL match exactly
the same things whatever their tokenizers would have done.

Arabic is folded the way Arabic readers expect a search to ignore spelling variants:

- alef with hamza above or below, alef with madda and alef wasla are plain alef (أ إ آ ٱ → ا);
- waw and ya with hamza are the hamza (ؤ ئ → ء), so مسؤول and مسئول are one word;
- alef maqsura is ya (ى → ي), taa marbuta is ha (ة → ه);
- the diacritics (harakat, tanwin, shadda, sukun, superscript alef, Quranic marks) and the
  tatweel (ـ) disappear;
- Arabic-Indic and Persian digits are ASCII digits (a Case ID typed ١٠٠٠٠١ is 100001), and
  the Persian keh and yeh are the Arabic kaf and ya.

Everything is also NFKC-normalized (presentation forms and ligatures become letters, full
width Latin becomes ASCII) and case-folded, and Latin accents are dropped (café = cafe).
English needs nothing more: no stemming, so every engine behaves alike; the last word of a
search matches as a prefix instead (see casedesk.search.query).
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
        "ؤ": "ء", "ئ": "ء",
        "ى": "ي", "ی": "ي", "ک": "ك",
        "ة": "ه",
        **{chr(0x0660 + n): str(n) for n in range(10)},
        **{chr(0x06F0 + n): str(n) for n in range(10)},
    }
)
# Marks removed outright: tatweel, Arabic diacritics and Quranic annotation signs, and the
# combining accents of Latin, Greek and Cyrillic (after NFKD has split them off).
_MARKS = re.compile(
    "[\u0640\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed"
    "\u0300-\u036f]"
)
# A word: letters and digits only. Underscores, hyphens, dots and @ separate words, as in
# SQLite's unicode61 tokenizer; PostgreSQL's parser would keep an email or a version
# number whole, which is why the engines are only ever given words joined by spaces.
_WORD = re.compile(r"[^\W_]+")
# The same for ASCII text once lower-cased, a third faster than the Unicode class.
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# Longer "words" are encoded data (base64, hashes), not something anyone types.
MAX_WORD = 60


def normalize(text: str) -> str:
    """`text` folded for comparison (see the module's docstring). Idempotent."""
    if text.isascii():
        # What the steps below give ASCII (nothing to compose, fold beyond lower case,
        # translate or strip), at a twentieth of the cost: most mail is ASCII, and a
        # rebuild normalizes every message (5 million at a million cases).
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ARABIC)
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    # NFKC again: recomposes what NFKD split and is not a mark we drop (Hangul, kana), and
    # folding can produce characters that fold further (a second pass changes nothing).
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ARABIC)
    return _MARKS.sub("", text)


def words(text: str) -> list[str]:
    """The searchable words of `text`, normalized, in order."""
    if text.isascii():
        return [w for w in _ASCII_WORD.findall(text.lower()) if len(w) <= MAX_WORD]
    return [w for w in _WORD.findall(normalize(text)) if len(w) <= MAX_WORD]


def index_text(text: str) -> str:
    """What the engines index for `text`: its words joined by single spaces."""
    return " ".join(words(text))
