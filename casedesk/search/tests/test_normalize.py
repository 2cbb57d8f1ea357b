"""The normalizer: each Arabic rule, Latin case and accents, and the properties the index
relies on (idempotent; a word matches itself however it was typed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casedesk.search.normalize import index_text, normalize, words
from casedesk.search.query import SearchError, case_id, parse


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # Hamza and alef forms.
        ("أحمد", "احمد"), ("إسلام", "اسلام"), ("آمال", "امال"), ("ٱلله", "الله"),
        ("مسؤول", "مسءول"), ("مسئول", "مسءول"),
        # Alef maqsura and ya, taa marbuta and ha.
        ("مستشفى", "مستشفي"), ("مدرسة", "مدرسه"),
        # Diacritics and tatweel.
        ("مَدْرَسَةٌ", "مدرسه"), ("العـــربية", "العربيه"), ("هٰذا", "هذا"),
        # Presentation forms and ligatures are letters.
        ("ﻻ", "لا"), ("ﺍﻟﺴﻼﻡ", "السلام"),
        # Arabic-Indic and Persian digits, Persian kaf and ya.
        ("١٢٣", "123"), ("۴۵۶", "456"), ("کتاب", "كتاب"), ("فارسی", "فارسي"),
        # Latin: case and accents.
        ("Café ÉLAN", "cafe elan"), ("Straße", "strasse"), ("ＤＮＳ", "dns"),
    ],
)
def test_each_rule(typed, expected):
    assert index_text(typed) == expected


def test_punctuation_separates_words_the_same_way_on_every_engine():
    assert words("noor@gulfnet.example v2.6.1 foo_bar e-mail") == [
        "noor", "gulfnet", "example", "v2", "6", "1", "foo", "bar", "e", "mail"
    ]


@given(st.text())
def test_normalizing_twice_changes_nothing(text):
    once = normalize(text)
    assert normalize(once) == once
    assert index_text(index_text(text)) == index_text(text)


ARABIC = st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
                 min_size=1, max_size=20)


@given(st.one_of(st.text(min_size=1, max_size=30), ARABIC))
def test_a_query_finds_the_text_it_was_typed_from(text):
    """Whatever is indexed, searching for it (as typed) asks for words the index holds."""
    indexed = set(words(text))
    try:
        query = parse(text.replace('"', " "))
    except SearchError:
        assert not indexed or len(text.strip()) > 500
        return
    for term in query.terms:
        for word in term.words[:-1] if term.prefix else term.words:
            assert word in indexed
        if term.prefix:
            assert any(w.startswith(term.words[-1]) for w in indexed)


@given(st.sampled_from(["مَسْؤُولٌ", "مسئول", "مسؤول"]), st.sampled_from(["ـ", ""]))
def test_spelling_variants_fold_to_one_word(word, tatweel):
    assert words(word[:1] + tatweel + word[1:]) == ["مسءول"]


def test_case_ids():
    assert case_id("100001") == 100001
    assert case_id(" #100001 ") == 100001
    assert case_id("١٠٠٠٠١") == 100001
    assert case_id("100001 dns") is None
    assert case_id("1" * 19) is None


def test_queries():
    query = parse('dns "block page" filt')
    assert [(t.words, t.prefix) for t in query.terms] == [
        (("dns",), False), (("block", "page"), False), (("filt",), True)
    ]
    # Short last words and phrases are not prefixes; an unclosed quote is ignored.
    assert not parse("dns fi").terms[-1].prefix
    assert not parse('"block page"').terms[-1].prefix
    assert [t.words for t in parse('dns "block').terms] == [("dns",), ("block",)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("?!... ---", "Nothing to search for"),
        ("😀 ★", "Nothing to search for"),
        ("x" * 10_000, "at most 500 characters long (this one has 10,000)"),
        (" ".join(f"w{n}" for n in range(20)), "at most 12 words"),
        ("a" * 80, "longer than 60 characters"),
    ],
)
def test_searches_that_cannot_run_say_why(text, message):
    with pytest.raises(SearchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)
