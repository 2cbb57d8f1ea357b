"""Mail in the recipient's language: English or Arabic (right to left). The guards that
keep every template translated are in casedesk/core/tests/test_translations.py."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from casedesk.accounts.models import User, language_for
from casedesk.conftest import make_agent, make_contact, make_org
from casedesk.core.choices import Priority
from casedesk.core.models import SiteConfiguration
from casedesk.escalation.actions import escalate
from casedesk.escalation.models import Escalation, Level
from casedesk.mail.models import OutboundMail
from casedesk.tickets.actions import add_message, submit_case
from casedesk.tickets.models import Ticket

ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
LATIN_WORD = re.compile(r"\b[A-Za-z]{4,}\b")


def ask(
    requester: User, subject: str = "Resolver 2 is down", priority: int = Priority.HIGH
) -> Ticket:
    return submit_case(
        email=requester.email, full_name=requester.full_name, subject=subject,
        description="Nothing resolves since 09:00.", priority=priority, category=None,
        files=[], submitted_by=requester,
    ).ticket


def html_part(message: Any) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


# --- who reads what --------------------------------------------------------------------


def test_a_person_reads_their_own_language_else_their_organizations_else_the_sites(
    db: Any,
) -> None:
    arabic_org = make_org(domains="arab.example")
    arabic_org.language = "ar"
    arabic_org.save()
    assert language_for(make_contact(arabic_org)) == "ar"
    assert language_for(make_contact(arabic_org, language="en")) == "en"
    assert language_for(make_contact(make_org(), language="ar")) == "ar"
    assert language_for(make_contact(None)) == settings.LANGUAGE_CODE
    assert language_for(make_agent()) == settings.LANGUAGE_CODE
    assert language_for(None) == settings.LANGUAGE_CODE
    # A code that is no longer offered falls back as if it were empty
    assert language_for(make_contact(arabic_org, language="xx")) == "ar"


# --- acknowledgements and replies --------------------------------------------------------


def test_an_arabic_contact_gets_the_acknowledgement_in_arabic_with_the_case_id(
    db: Any, send_mail: Any
) -> None:
    # Given a contact who reads Arabic, at a Premium partner
    config = SiteConfiguration.current()
    config.support_phone = "+971 4 000 0000"
    config.save()
    contact = make_contact(make_org(plan="Premium"), language="ar", full_name="Noor Haddad")

    # When they open a case (their subject in Arabic)
    ticket = ask(contact, subject="الخادم الثاني لا يستجيب")

    # Then the acknowledgement is Arabic: subject, text and HTML, with the Case ID in
    # Latin digits and the [Case #N] tag mail threading depends on
    [message] = send_mail()
    # (Django folds a non-ASCII subject onto its own line: the parsed value starts with
    # the fold's space, which mail clients do not show.)
    assert message["Subject"].strip() == f"[Case #{ticket.pk}] الخادم الثاني لا يستجيب"
    body = message.get_content()
    assert "مرحبًا Noor،" in body
    assert f"لقد استلمنا طلبك. رقم طلبك هو {ticket.pk}." in body
    assert "الأولوية:  عالية (حرجة)" in body
    assert "سيرد عليك أحد مهندسينا خلال ساعة واحدة (خطة Premium)" in body
    assert "+971 4 000 0000" in body
    assert "Hello" not in body and "Case ID" not in body
    html = html_part(message)
    assert '<html lang="ar" dir="rtl">' in html
    assert "text-align:right" in html
    assert f"رقم طلبك هو <strong>{ticket.pk}</strong>" in html
    assert OutboundMail.objects.get(ticket=ticket).language == "ar"


def test_an_english_contact_gets_the_acknowledgement_in_english(
    db: Any, send_mail: Any
) -> None:
    contact = make_contact(make_org(plan="Standard"), full_name="Lina Nasser")
    ticket = ask(contact, priority=Priority.MEDIUM)
    [message] = send_mail()
    assert message["Subject"] == f"[Case #{ticket.pk}] Resolver 2 is down"
    body = message.get_content()
    assert "Hello Lina," in body
    assert f"Your Case ID is {ticket.pk}." in body
    assert "Priority:  Medium (Major)" in body
    assert "within 8 hours (Standard plan)" in body
    assert not ARABIC_LETTER.search(body)
    html = html_part(message)
    assert '<html lang="en" dir="ltr">' in html
    assert "text-align:left" in html


def test_contacts_of_an_arabic_organization_read_arabic_unless_they_chose_english(
    db: Any, send_mail: Any
) -> None:
    org = make_org(domains="sahara.example")
    org.language = "ar"
    org.save()
    follows = make_contact(org, email="amal@sahara.example")
    chose = make_contact(org, email="john@sahara.example", language="en")
    ask(follows)
    ask(chose)
    by_recipient = {m["To"]: m.get_content() for m in send_mail()}
    assert "لقد استلمنا طلبك" in by_recipient["amal@sahara.example"]
    assert "We have received your case" in by_recipient["john@sahara.example"]


def test_a_new_requester_at_an_arabic_partner_is_invited_in_arabic(
    db: Any, send_mail: Any
) -> None:
    # Given an Arabic partner, and someone of theirs who has never written to us
    org = make_org(domains="cedar.example")
    org.language = "ar"
    org.save()

    # When they open a case from the portal without an account
    submit_case(
        email="sara@cedar.example", full_name="Sara Khalil", subject="لا يعمل الفلتر",
        description="...", priority=Priority.LOW, category=None, files=[],
    )

    # Then the invitation, subject included, is Arabic too
    invitation = next(m for m in send_mail() if m["Auto-Submitted"] == "auto-generated")
    assert invitation["Subject"] == "دعوتك إلى بوابة الدعم"
    body = invitation.get_content()
    assert "ندعوك إلى بوابة الدعم" in body
    assert "ولمدة 7 أيام" in body


def test_an_agents_reply_to_an_arabic_contact_is_arabic_and_right_to_left(
    db: Any, send_mail: Any, agent: User
) -> None:
    # Given an Arabic contact's case
    contact = make_contact(make_org(), language="ar")
    ticket = ask(contact)
    send_mail()

    # When the agent answers in Arabic and marks the case as waiting on the customer
    add_message(ticket.pk, agent, "أعدنا تشغيل الخادم، هل عادت الخدمة؟", [],
                new_status=Ticket.Status.PENDING)

    # Then the reply's frame is Arabic: status label, signature, how to answer
    reply = send_mail()[-1]
    assert reply["Subject"] == f"[Case #{ticket.pk}] Resolver 2 is down"
    body = reply.get_content()
    assert "أعدنا تشغيل الخادم، هل عادت الخدمة؟" in body
    assert "حالة الطلب: بانتظار ردّ العميل" in body
    assert f"مع الإبقاء على [Case #{ticket.pk}] في الموضوع" in body
    # No English left but the tag, the link, the agent's and the company's names
    frame = re.sub(r"https?://\S+|\[Case #\d+\]|Sam Agent|casedesk", "", body)
    assert not LATIN_WORD.search(frame), frame
    html = html_part(reply)
    assert '<html lang="ar" dir="rtl">' in html
    assert 'dir="rtl"' in html.split("<body", 1)[1].split(">", 1)[0]
    assert "حالة الطلب: <strong>بانتظار ردّ العميل</strong>" in html


def test_each_recipient_of_one_escalation_reads_it_in_their_language(
    db: Any, send_mail: Any
) -> None:
    # Given an Arabic contact's case, and a level 2 whose engineer reads English
    engineer = make_agent(email="eng@casedesk.example", full_name="Omar Engineer")
    level = Level.objects.filter(number=2).first() or Level.objects.create(
        number=2, name="Engineering"
    )
    level.email = engineer.email
    level.save()
    contact = make_contact(make_org(), language="ar")
    ticket = ask(contact)
    send_mail()

    # When the contact's case is escalated
    escalate(ticket.pk, actor=contact, source=Escalation.Source.PORTAL, reason="عاجل")

    # Then the engineer's notice is English and the customer's Arabic
    delivered = {m["To"]: m for m in send_mail()}
    assert delivered[engineer.email]["Subject"].strip().startswith(
        f"[Case #{ticket.pk}] Escalated to level"
    )
    customer = delivered[contact.email].get_content()
    assert f"تم تصعيد طلبك رقم {ticket.pk}" in customer
    assert "السبب المذكور: عاجل" in customer
