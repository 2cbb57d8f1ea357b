"""The desk in Arabic: pages right to left, flash messages and bulk results in Arabic with
Arabic plural forms, the script's words from the translated page, times in the reader's
zone. English stays English.

Arabic is asked for the way a browser asks (Accept-Language), through LocaleMiddleware.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone, translation

from casedesk.core.choices import Priority
from casedesk.desk.models import Presence
from casedesk.desk.templatetags.desk_tags import ago, ago_text
from casedesk.desk.tests.test_queue import open_case
from casedesk.tickets.actions import add_message

AR = {"HTTP_ACCEPT_LANGUAGE": "ar"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def html_tag(html: str) -> str:
    return re.search(r"<html[^>]*>", html).group()  # type: ignore[union-attr]


def flashes(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<li class="flash-\w+">(.*?)</li>', html, re.S)]


@pytest.fixture
def ar_client(agent) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="ar")
    client.force_login(agent)
    return client


@pytest.fixture
def case(contact):
    return open_case(contact, "DNS 2 down", priority=Priority.HIGH)


def test_the_queue_reads_right_to_left_in_arabic_and_left_to_right_in_english(
    agent_client, ar_client, case
):
    arabic = ar_client.get("/desk/").content.decode()
    english = agent_client.get("/desk/", **EN).content.decode()

    assert html_tag(arabic) == '<html lang="ar" dir="rtl">'
    assert html_tag(english) == '<html lang="en" dir="ltr">'
    # The view's title, the column heads, the views list and the bulk bar
    assert "<h1>كل المفتوحة</h1>" in arabic
    assert '<th class="num" scope="col">رقم الطلب</th>' in arabic
    assert "تغيير الطلبات المحدّدة" in arabic and "طلباتي" in arabic
    assert "عالية (حرجة)" in arabic  # the priority badge, from the project's catalog
    # The Case ID stays in Latin digits
    assert f'<a href="/desk/cases/{case.pk}/">{case.pk}</a>' in arabic
    assert "<h1>All open</h1>" in english and "Change the ticked cases" in english
    assert "كل المفتوحة" not in english


def test_a_view_count_reads_with_its_arabic_plural_form(ar_client, contact):
    for n in range(3):
        open_case(contact, f"Case {n}")

    html = ar_client.get("/desk/").content.decode()

    # Three open cases: the 3-10 form ("3 طلبات"), not the singular
    assert 'aria-label="3 طلبات">3</span>' in html


def test_the_case_page_reads_right_to_left_in_arabic(ar_client, agent_client, case):
    arabic = ar_client.get(f"/desk/cases/{case.pk}/").content.decode()
    english = agent_client.get(f"/desk/cases/{case.pk}/").content.decode()

    assert 'dir="rtl"' in html_tag(arabic)
    assert f"<title>الطلب {case.pk}: DNS 2 down" in arabic
    assert "الرد أو إضافة ملاحظة" in arabic and "ملاحظة داخلية (للوكلاء فقط)" in arabic
    assert '<h2 id="history-title">سجل الطلب</h2>' in arabic
    assert "Reply or add a note" not in arabic
    # The requester's email reads left to right inside the Arabic panel
    assert f'dir="ltr">{case.requester.email}</a>' in arabic
    assert 'dir="ltr"' in html_tag(english) and "Reply or add a note" in english


def test_the_history_reads_in_arabic(ar_client, agent, case):
    add_message(case.pk, agent, "Looking.", [], internal=True)

    html = ar_client.get(f"/desk/cases/{case.pk}/").content.decode()

    assert f"أضاف {agent.get_full_name()} ملاحظة داخلية" in html
    # The channel the case came in by is a word of the page's language too.
    assert f"أنشأ {case.requester.get_full_name()} الطلب عبر البوابة" in html


def test_the_presence_words_come_translated_for_the_script(
    ar_client, agent_client, other_agent, case
):
    Presence.objects.create(ticket=case, agent=other_agent, state="typing")

    arabic = ar_client.get(f"/desk/cases/{case.pk}/").content.decode()
    english = agent_client.get(f"/desk/cases/{case.pk}/").content.decode()

    # case.js fills "{name}" in these: it has no words of its own
    assert 'data-viewing="{name} يطّلع على الطلب"' in arabic
    assert 'data-typing="{name} يكتب ردًّا"' in arabic
    assert "Lee Other يكتب ردًّا" in arabic
    assert 'data-viewing="{name} is viewing"' in english
    assert "Lee Other is typing" in english


def test_the_search_page_reads_in_arabic(ar_client, case):
    empty = ar_client.get("/desk/search/").content.decode()
    found = ar_client.get("/desk/search/", {"q": "DNS"}).content.decode()
    refused = ar_client.get("/desk/search/", {"q": "!!!"}).content.decode()

    assert 'dir="rtl"' in html_tag(empty) and "<h1>البحث في الطلبات</h1>" in empty
    assert "عُثر على طلب واحد." in found
    assert "لا يوجد ما يُبحث عنه" in refused


def test_a_flash_message_after_saving_is_in_arabic(ar_client, agent, case):
    page = ar_client.get(f"/desk/cases/{case.pk}/")
    assert page.status_code == 200
    data = {
        "status": "open", "initial-status": case.status,
        "priority": str(case.priority), "initial-priority": str(case.priority),
        "assignee": str(agent.pk), "initial-assignee": "",
    }

    response = ar_client.post(f"/desk/cases/{case.pk}/update/", data, follow=True)

    said = flashes(response.content.decode())
    assert said == [f"تم الحفظ: الحالة مفتوح، المُسنَد إليه {agent.get_full_name()}."]


def test_bulk_results_are_in_arabic_with_the_dual_and_the_plural(
    ar_client, agent, other_agent, contact
):
    two = [open_case(contact, f"Two {n}") for n in range(2)]
    three = [open_case(contact, f"Three {n}") for n in range(3)]

    def bulk(cases, **fields):
        data = {"case": [str(t.pk) for t in cases], "next": "/desk/", **fields}
        return flashes(ar_client.post("/desk/bulk/", data, follow=True).content.decode())

    name = other_agent.get_full_name()
    assert bulk(two, action="assign", assignee=str(other_agent.pk)) == [
        f"تم إسناد طلبين إلى {name}."]
    assert bulk(three, action="status", status="on_hold") == ["تم تعيين حالة 3 طلبات إلى معلّق."]
    # Bad input: nothing ticked, said in Arabic, nothing changed
    assert bulk([], action="assign", assignee="me") == [
        "لم يتغير شيء: حدّد طلبًا واحدًا على الأقل أولًا."]


def test_relative_times_use_each_arabic_plural_form() -> None:
    now = timezone.now()
    with translation.override("ar"):
        assert ago_text(now - timedelta(seconds=5), now) == "الآن"
        assert ago_text(now - timedelta(minutes=1), now) == "منذ دقيقة واحدة"
        assert ago_text(now - timedelta(minutes=2), now) == "منذ دقيقتين"
        assert ago_text(now - timedelta(minutes=5), now) == "منذ 5 دقائق"
        assert ago_text(now - timedelta(minutes=25), now) == "منذ 25 دقيقة"
        assert ago_text(now - timedelta(hours=3), now) == "منذ 3 ساعات"
        assert ago_text(now - timedelta(days=2), now) == "منذ يومين"
        assert ago_text(now + timedelta(hours=3), now) == "بعد 3 ساعات"
    with translation.override("en"):
        assert ago_text(now - timedelta(minutes=1), now) == "1 minute ago"
        assert ago_text(now - timedelta(hours=3), now) == "3 hours ago"
        assert ago_text(now + timedelta(days=2), now) == "in 2 days"


def test_times_are_shown_in_the_readers_zone() -> None:
    moment = timezone.now().replace(year=2026, month=11, day=26, hour=21, minute=30)
    with timezone.override("Asia/Riyadh"), translation.override("en"):
        html = str(ago(moment))
    # 21:30 UTC is 00:30 the next day in Riyadh (UTC+3)
    assert 'title="27 Nov 2026, 00:30 +03"' in html
    assert f'datetime="{moment.isoformat()}"' in html
