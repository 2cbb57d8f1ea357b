"""The guards that keep casedesk bilingual: every template's text is marked for
translation, every marked string has its Arabic in one of the catalogs (the project's
`casedesk/locale` or an app's own `casedesk/<app>/locale`), and each committed .mo is its
compiled .po."""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from django.conf import settings
from django.template import engines
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

PACKAGE = Path(__file__).resolve().parents[2]
# Apps whose web pages are not translated yet (issue 6 empties this set). Their mail
# templates are checked all the same: mail has been bilingual since issue 4.
NOT_YET_TRANSLATED: set[str] = set()
# Tags whose content is translated text or no text at all.
OPAQUE_BLOCKS = {"blocktranslate", "blocktrans", "comment"}
# Attributes a reader sees or hears (a screen reader speaks aria-label and alt).
VISIBLE_ATTRIBUTES = re.compile(
    r"""\b(?:placeholder|title|alt|aria-label)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE
)


def is_mail(path: Path) -> bool:
    return "mail" in path.relative_to(PACKAGE).parts[2:]


def templates() -> list[Path]:
    found = [
        path for path in PACKAGE.glob("*/templates/**/*")
        if path.suffix in {".html", ".txt"}
        and (path.relative_to(PACKAGE).parts[0] not in NOT_YET_TRANSLATED or is_mail(path))
    ]
    assert len(found) >= 13
    return sorted(found)


def catalogs(language: str) -> list[Path]:
    found = sorted(PACKAGE.glob(f"**/locale/{language}/LC_MESSAGES/django.po"))
    assert found, f"no catalog for {language}"
    return found


def read_catalog(path: Path, language: str) -> Catalog:
    with open(path, "rb") as handle:
        return read_po(handle, locale=language)


def visible_attributes(tag: str) -> str:
    return " ".join(a or b for a, b in VISIBLE_ATTRIBUTES.findall(tag))


def text_outside_translation(source: str) -> list[str]:
    """The words of a template's literal text outside {% translate %} and
    {% blocktranslate %}, in Django's own tokens: none may be left unmarked. Markup (tags,
    entities) and paths (a link's /cases/) are not words to translate; the text of the
    attributes a reader sees (placeholder, title, alt, aria-label) is."""
    parts, inside = [], ""
    for token in Lexer(source).tokenize():
        name = token.contents.split()[0] if token.contents.strip() else ""
        if token.token_type == TokenType.BLOCK and not inside and name in OPAQUE_BLOCKS:
            inside = name
        elif token.token_type == TokenType.BLOCK and inside and name == f"end{inside}":
            inside = ""
        elif token.token_type == TokenType.TEXT and not inside:
            parts.append(token.contents)
            continue
        # A variable or a tag stands in the text as a value would: no words of its own.
        parts.append(" ")
    text = "".join(parts)
    text = re.sub(r"<[^>]*>", lambda tag: f" {visible_attributes(tag.group())} ", text)
    text = re.sub(r"&[#\w]+;", " ", text)
    text = re.sub(r"\S*/\S*", " ", text)
    return re.findall(r"[^\W\d_]{2,}", text)


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_template_marks_its_text_for_translation(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    engines["django"].from_string(source)  # it compiles
    unmarked = text_outside_translation(source)
    assert unmarked == [], f"{path.name}: text not marked for translation: {unmarked}"


def test_the_guard_catches_unmarked_text() -> None:
    source = (
        '{% load i18n %}<p class="{{ x }} y">{% translate "Hello" %}</p> Case {{ id }}'
        "{% if id %}{% blocktranslate %}Hi {{ id }}{% endblocktranslate %} Bye{% endif %}"
        "{% comment %}Notes{% endcomment %} {{ url }}/cases/"
        '<input placeholder="Search" name="q" title="{% translate "Find" %}">'
        "<img alt='Logo' src=\"/static/x.png\">"
    )
    assert text_outside_translation(source) == ["Case", "Bye", "Search", "Logo"]


def marked_strings() -> set[str]:
    """Every msgid marked in the checked templates and in the Python code (gettext_lazy,
    ngettext, ...), found the way makemessages finds them."""
    keywords = {
        "_": None, "gettext": None, "gettext_lazy": None, "ngettext": (1, 2),
        "ngettext_lazy": (1, 2), "pgettext": ((1, "c"), 2), "pgettext_lazy": ((1, "c"), 2),
    }
    sources = [
        # templatize gives gettext() calls among filler, one per line; indentation aside,
        # it reads as Python.
        "\n".join(
            line.strip() for line in
            templatize(path.read_text(encoding="utf-8"), origin=str(path)).splitlines()
        )
        for path in templates()
    ]
    sources += [
        path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]
    found = set()
    for source in sources:
        for _line, _func, messages, _comments in extract_python(
            io.BytesIO(source.encode("utf-8")), keywords, [], {}
        ):
            first = messages[0] if isinstance(messages, tuple | list) else messages
            if first:
                found.add(first)
    return found


def translated(language: str) -> set[str]:
    found = set()
    for path in catalogs(language):
        for message in read_catalog(path, language):
            strings = message.string if isinstance(message.string, tuple) else [message.string]
            if message.id and not message.fuzzy and all(strings):
                found.add(message.id if isinstance(message.id, str) else message.id[0])
    return found


def test_every_marked_string_has_its_arabic_translation() -> None:
    marked = marked_strings()
    # The extraction sees templates and Python alike
    assert {"Hello %(name)s,", "High (Critical)", "%(count)d hour"} <= marked
    missing = sorted(marked - translated("ar"))
    assert missing == [], (
        f"translate these in an Arabic catalog (casedesk/locale/README.md): {missing}"
    )


@pytest.mark.parametrize("path", catalogs("ar"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_an_arabic_catalog_has_no_fuzzy_or_empty_entries_and_arabic_plurals(
    path: Path,
) -> None:
    catalog = read_catalog(path, "ar")
    assert catalog.num_plurals == 6
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, message.id
        assert all(strings), message.id
        assert len(strings) == (6 if message.pluralizable else 1), message.id


def every_catalog() -> list[tuple[Path, str]]:
    return [
        (path, code) for code, _name in settings.LANGUAGES if code != "en"
        for path in catalogs(code)
    ]


@pytest.mark.parametrize(
    ("path", "language"), every_catalog(), ids=lambda p: str(p).replace(str(PACKAGE), "")
)
def test_the_committed_mo_is_the_compiled_po(path: Path, language: str) -> None:
    catalog = read_catalog(path, language)
    expected: dict[Any, str] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.string, tuple | list):
            for index, string in enumerate(message.string):
                expected[(message.id[0], index)] = string
        else:
            expected[message.id] = str(message.string)
    mo = path.with_suffix(".mo")
    with open(mo, "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    actual = {k: v for k, v in compiled._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert actual == expected, (
        f"{mo.relative_to(PACKAGE.parent)} is out of date: run `make compile-messages`"
    )
