"""The reports in Arabic: the page, its tables, charts and error messages come from the
reports' own Arabic catalog, and the numbers do not change with the language."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.test import Client

from casedesk.reports.tests.conftest import History
from casedesk.reports.tests.test_pages import MARCH, get, read_csv, signed_in, text


def arabic(client: Client, name: str, *args: Any, **query: Any) -> Any:
    # The reader's language is chosen per request (LocaleMiddleware): the language cookie
    # is how an agent without a saved language reads Arabic.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    try:
        return get(client, name, *args, **query)
    finally:
        del client.cookies[settings.LANGUAGE_COOKIE_NAME]


def test_the_report_page_reads_in_arabic_with_the_same_numbers(history: History) -> None:
    sam = signed_in(history.sam)
    english = get(sam, "reports:index", **MARCH).content.decode()

    response = arabic(sam, "reports:index", **MARCH)

    assert response.status_code == 200
    html = response.content.decode()
    page = text(html)
    for words in ("التقارير", "الالتزام باتفاقية مستوى الخدمة: الرد الأول",
                  "التصعيدات حسب المصدر والمستوى", "الطلبات المتراكمة حسب العمر والحالة",
                  "حجم الطلبات حسب الفئة والقناة", "الطلبات المفتوحة والمحلولة يوميًا",
                  "نشاط موظفي الدعم", "تنزيل CSV", "اعرض التقرير", "كل المؤسسات",
                  "(31 يومًا، UTC)"):
        assert words in page, words
    assert "SLA compliance" not in page and "Download CSV" not in page
    # The same figures in the same cells (durations aside, whose units are translated)
    assert counts(html) == counts(english) and counts(html)


def counts(html: str) -> list[str]:
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    return [cell for cell in cells if not re.search(r"[^\d,.%–-]", cell)]


def test_csv_headers_and_charts_follow_the_language(history: History) -> None:
    sam = signed_in(history.sam)

    rows = read_csv(arabic(sam, "reports:csv", "sla", **MARCH))
    chart = arabic(sam, "reports:chart", "timeline", **MARCH).content.decode()

    assert rows[0][:3] == ["الخطة", "الأولوية", "ملتزم به"]
    assert rows[-1][:2] == ["كل الخطط", "كل الأولويات"]
    # Text stays text in the SVG: the browser shapes the Arabic letters
    assert "فُتح" in chart and "الطلبات" in chart


def test_a_bad_period_is_explained_in_arabic(history: History) -> None:
    sam = signed_in(history.sam)

    response = arabic(sam, "reports:index", start="2026-03-10", end="2026-03-01")

    assert response.status_code == 400
    assert "اليوم الأخير يسبق اليوم الأول." in text(response.content.decode())
