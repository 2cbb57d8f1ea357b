"""extract_reply: the customer's new words, without the history and the signature."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casedesk.mail.reply import extract_reply


@pytest.mark.parametrize(
    "text",
    [
        # Gmail
        "Thanks, it works now.\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Support <s@x.com> wrote:\n\n> Hi",
        # Gmail wrapping the attribution over two lines
        "Thanks, it works now.\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Support Team <\n"
        "support@casedesk.localhost> wrote:\n\n> Hi\n> there",
        # Apple Mail, attribution inside the quote
        "Thanks, it works now.\n> On 22 Aug 2015, at 19:21, Support <s@x.com> wrote:\n>\n> Hi",
        # Arabic
        "Thanks, it works now.\n\nفي الأحد، 1 ديسمبر 2024، كتب فريق الدعم <s@x.com>:\n> مرحبا",
        # Outlook
        "Thanks, it works now.\n\nFrom: Support [mailto:s@x.com]\nSent: Monday, April 2, 2012"
        "\nTo: Ada\nSubject: RE: printer\n\nHi",
        # Outlook with the underscore separator and localized fields
        "Thanks, it works now.\n\n________________________________\nDe: Support\nEnvoyé: lundi"
        "\nÀ: Ada\nObjet: printer\n\nBonjour",
        # AOL/Yahoo
        "Thanks, it works now.\n\n-----Original Message-----\nFrom: Support <s@x.com>\nHi",
        # mobile signature
        "Thanks, it works now.\n\nSent from my iPhone\n\nOn Apr 3, 2012, s wrote:\n> Hi",
        # "-- " signature
        "Thanks, it works now.\n\n-- \nAda Lovelace\nAnalytical Engines Ltd",
        # Thunderbird bottom-posting: the reply is below the quote
        "On 04/02/2012 06:26 PM, Support wrote:\n> Hi\n> there\n\nThanks, it works now.",
    ],
)
def test_the_new_text_is_extracted(text: str) -> None:
    assert extract_reply(text) == "Thanks, it works now."


def test_inline_answers_keep_their_questions() -> None:
    # Given a customer answering between our questions
    text = (
        "On Mon, Support wrote:\n> Which model?\nLaserJet 4\n> Which floor?\nThird\n"
        "> Thanks\n> Support"
    )
    reply = extract_reply(text)
    # Then each answer stays beside its question; the trailing quote goes
    assert reply == "LaserJet 4\n> Which floor?\nThird"


def test_a_forward_is_new_content_and_kept_whole() -> None:
    text = (
        "Please see below, this is what our supplier says.\n\n"
        "---------- Forwarded message ---------\nFrom: Supplier <x@s.com>\n"
        "Date: Mon, Apr 2, 2012\nSubject: delay\nTo: Ada\n\nThe part ships next week."
    )
    assert extract_reply(text) == text


def test_a_message_that_is_all_quote_is_kept_rather_than_lost() -> None:
    text = "On Mon, Support wrote:\n> Hi\n"
    assert extract_reply(text) == text.strip()


def test_plain_text_without_history_is_unchanged() -> None:
    text = "Line one\n\nLine two - with a dash\n-- not a signature, mid-line"
    assert extract_reply(text) == text


def test_html_only_reply_uses_the_quote_containers() -> None:
    html = (
        "<div>Thanks, it works now.</div><div class='gmail_quote'>"
        "<div>On Mon, Support &lt;s@x.com&gt; wrote:</div>"
        "<blockquote>Hi there</blockquote></div>"
    )
    assert extract_reply("", html) == "Thanks, it works now."


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Hello",
                "",
                "> quoted",
                "On Mon, Bob wrote:",
                "-- ",
                "From: a",
                "Sent: b",
                "To: c",
                "-----Original Message-----",
                "كتب:",
                "Sent from my iPhone",
                "x" * 50,
            ]
        )
        | st.text(max_size=40),
        max_size=30,
    ),
    st.text(max_size=200),
)
def test_any_text_or_html_gives_a_string_never_an_error(lines: list[str], html: str) -> None:
    text = "\n".join(lines)
    reply = extract_reply(text, html)
    # Then the reply is never longer than what was sent (nothing invented)
    assert isinstance(reply, str)
    assert len(reply) <= max(len(text.strip()), len(html))


def test_the_customers_own_words_about_what_someone_wrote_are_kept() -> None:
    text = "Here is what my colleague wrote:\nthe printer smokes\n\nAnd he wrote\nmore"
    assert extract_reply(text) == text
