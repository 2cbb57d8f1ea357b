"""Mail rendered from a template's pieces (casedesk.mail.pieces) is byte for byte what the
template engine renders, in English and Arabic, whatever the values hold."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.template.loader import render_to_string as engine_render
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from casedesk.conftest import make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.core.format import duration_text_lazy
from casedesk.mail import pieces
from casedesk.mail.models import OutboundMail
from casedesk.tickets.actions import submit_case

NAMES = ["Ann", "<b>Bob</b> & \"co\"", "www.example.com", "سارة"]
SUBJECTS = ["Printer broke", "<script>x</script> & 'y' http://a.example/?q=1&r=2", "الطابعة"]


def acknowledgement(name: str, subject: str, phone: str, plan: str | None,
                    hours: int | None) -> dict[str, Any]:
    from datetime import timedelta

    target = timedelta(hours=hours) if hours is not None else None
    return {
        "base_url": "http://desk.example", "company_name": "Acme & Co", "support_phone": phone,
        "name": name, "case_id": 1234, "case_subject": subject, "plan": plan,
        "target": bool(target), "target_text": duration_text_lazy(target) if target else "",
        "priority_label": Priority.HIGH.label,
    }


def invitation(name: str, organization: str | None, case_id: int | None) -> dict[str, Any]:
    return {
        "base_url": "http://desk.example", "company_name": "Acme", "support_phone": "",
        "name": name, "email": "ann@example.com", "organization": organization,
        "link": "http://desk.example/invitation/a-b_c/", "days": 7, "case_id": case_id,
    }


def same(template: str, context: dict[str, Any]) -> str:
    expected = engine_render(template, context)
    got = pieces.render_to_string(template, context)
    assert got == expected
    assert isinstance(got, SafeString)
    return got


@pytest.mark.parametrize("language", ["en", "ar"])
def test_an_acknowledgement_from_its_pieces_is_what_the_engine_renders(language: str) -> None:
    # Given every branch of the acknowledgement and values that need escaping
    cases = itertools.product(NAMES, SUBJECTS, ["", "+971 4 <555>"], [None, "Premium", ""],
                              [None, 0, 4])
    with translation.override(language), timezone.override("Asia/Dubai"):
        for name, subject, phone, plan, hours in cases:
            context = acknowledgement(name, subject, phone, plan, hours)
            # When it is rendered from its pieces, text and HTML; then it is the engine's
            text = same("tickets/mail/acknowledgement.txt", context)
            html = same("tickets/mail/acknowledgement.html",
                        {**context, "text": text, "subject": f"[Case #1234] {subject}"})
            if "<" in subject:
                assert "&lt;script&gt;" in html and "<script>x" in text


@pytest.mark.parametrize("language", ["en", "ar"])
def test_an_invitation_from_its_pieces_is_what_the_engine_renders(language: str) -> None:
    with translation.override(language):
        for name, organization, case_id in itertools.product(
            NAMES, [None, "Org <x> & y", ""], [None, 42]
        ):
            context = invitation(name, organization, case_id)
            text = same("accounts/mail/invitation.txt", context)
            # The HTML twin shows the text with its links made clickable
            html = same("mail/text.html", {**context, "text": text, "subject": "Welcome"})
            assert '<a href="http://desk.example/invitation/a-b_c/"' in html


def test_the_plural_of_the_days_follows_the_value_not_the_first_mail() -> None:
    with translation.override("en"):
        one = pieces.render_to_string("accounts/mail/invitation.txt",
                                      {**invitation("Ann", None, None), "days": 1})
        seven = pieces.render_to_string("accounts/mail/invitation.txt",
                                        invitation("Ann", None, None))
    assert "for 1 day)" in one
    assert "for 7 days)" in seven


def test_a_template_without_a_layout_or_with_an_object_goes_through_the_engine(
    db: Any,
) -> None:
    contact = make_contact(make_org())
    context = {"name": contact, "subject": "Hello", "base_url": "", "company_name": "Acme"}
    assert pieces.render_to_string("mail/use_portal.txt", context) == engine_render(
        "mail/use_portal.txt", context)
    # An object's attributes may be read by the template: no pieces for it
    assert pieces._shape_key("mail/text.html", {"text": contact},
                             pieces.LAYOUTS["mail/text.html"]) is None


def test_an_arabic_acknowledgement_queued_by_a_case_is_in_arabic(db: Any) -> None:
    # Given a contact of an Arabic-speaking organization
    org = make_org()
    org.language = "ar"
    org.save()
    contact = make_contact(org, full_name="سارة أحمد")

    # When they open a case
    ticket = submit_case(
        email=contact.email, full_name=contact.full_name, subject="<b>الطابعة</b>",
        description="x", priority=Priority.HIGH, category=None, files=[],
        submitted_by=contact,
    ).ticket

    # Then its acknowledgement greets them in Arabic, the subject escaped in the HTML part
    mail = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.ACKNOWLEDGEMENT)
    assert "سارة" in mail.body_text and f"{ticket.pk}" in mail.body_text
    assert "&lt;b&gt;الطابعة&lt;/b&gt;" in mail.body_html
    assert 'dir="rtl"' in mail.body_html


def test_urlize_word_by_word_is_urlize_of_the_whole_text() -> None:
    from django.template.defaultfilters import urlize
    from django.utils.safestring import mark_safe

    texts = [
        "See http://a.example/x?y=1&z=2.\nWrite to c@d.example, or www.b.org\n\n<b>'q'</b>",
        'Quoted "http://e.example/" then\r\n(www.f.example). &amp; \n\tmailto:g@h.example:',
        "",
        "\n\n",
        "  lead\u00a0nbsp\u2003em <a@b.example>\thttps://x.example/a_b/ 12. x\n",
        "word@",
    ]
    for text in texts:
        for value in (text, mark_safe(text)):
            assert pieces._urlized(value) == str(urlize(value, autoescape=True))
