"""The queue's rows written in Python (casedesk.desk.queue_rows) are the HTML the template
wrote: organizations given, typed or missing, assignees, SLA cells with and without a due
time or none, the escalated view's column, "select all", in English and Arabic."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.template import engines
from django.utils import timezone, translation

from casedesk.conftest import make_case, make_contact, make_org
from casedesk.desk.queue import Criteria, find_page
from casedesk.desk.queue_rows import queue_rows
from casedesk.sla.display import TimeLeft, attach_time_left
from casedesk.tickets.actions import assign
from casedesk.tickets.models import Ticket

# desk/queue.html's loop over the page's cases before it moved to casedesk.desk.queue_rows.
TEMPLATE = "{% load i18n desk_tags %}" + (Path(__file__).parent / "queue_rows_template.html"
                                           ).read_text(encoding="utf-8")


def spaced(html: str) -> str:
    """Line breaks and indentation between tags do not show; everything else must match."""
    return re.sub(r"\n\s*", "\n", html).strip()


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize(("view", "select_all"), [("open", False), ("escalated", True)])
def test_the_rows_are_the_html_the_template_wrote(agent, language: str, view: str,
                                                  select_all: bool) -> None:
    with_org = make_case(make_contact(make_org(name='Acme <"&">'))).ticket
    assign(with_org.pk, agent, agent)
    typed = make_case(full_name="Typed <Org>").ticket
    Ticket.objects.filter(pk=typed.pk).update(organization_name_given="Given & Co")
    make_case(subject="<b>No org</b> & more")
    page = find_page(agent, Criteria(view="open"))
    attach_time_left(page.tickets)
    tickets = page.tickets
    assert len(tickets) == 3
    tickets[0].sla = None  # type: ignore[attr-defined]
    tickets[1].sla = TimeLeft("paused", "paused", "first_response", "First <reply>", None)  # type: ignore[attr-defined]
    for n, ticket in enumerate(tickets):
        ticket.escalated_at = timezone.now() - timedelta(hours=n) if n else None  # type: ignore[attr-defined]
    context = {"page": page, "view": view, "select_all": select_all}
    with translation.override(language), timezone.override("Asia/Riyadh"):
        theirs = engines["django"].from_string(TEMPLATE).render(context)
        ours = str(queue_rows(tickets, view, select_all))
    assert 'title="' in ours and "Given &amp; Co" in ours
    assert spaced(ours) == spaced(theirs)
