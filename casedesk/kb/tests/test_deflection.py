"""Suggestions opened from the submit form, and deflection: opened, then left without
submitting (or not submitted within the window). Through the real endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from casedesk.kb import deflection
from casedesk.kb.models import FormSession, SuggestionOpen
from casedesk.kb.tests.conftest import publish, signed_in

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def articles(section):
    return [
        publish(section, "Reset a password", "Forgot password link."),
        publish(section, "Escalate a Ticket", "Case ID."),
        publish(section, "Override", "Agents.", internal=True),
    ]


def token(n: int) -> str:
    return f"form{n:02d}-token-abcdefghijk"


def open_from_form(client: Client, slug: str, form: str) -> str:
    response = client.get(f"/kb/open/{slug}/", {"fs": form, "lang": "ar"})
    assert response.status_code == 302
    return response["Location"]


def report(client: Client, form: str, event: str) -> int:
    return client.post("/kb/suggest/event/", {"token": form, "event": event}).status_code


def test_opening_a_suggestion_is_counted_and_leads_to_the_article(client, articles):
    with time_machine.travel(START, tick=False):
        location = open_from_form(client, "reset-a-password", token(1))
        open_from_form(client, "reset-a-password", token(1))  # the same again: once

    assert location == "/kb/articles/reset-a-password/?lang=ar"
    assert SuggestionOpen.objects.count() == 1
    assert FormSession.objects.get().last_open_at == START


def test_a_form_left_after_opening_a_suggestion_is_deflected_at_once(client, articles):
    with time_machine.travel(START, tick=False):
        open_from_form(client, "reset-a-password", token(1))
        assert report(client, token(1), "left") == 204
        totals = deflection.totals()

    assert (totals.opened, totals.deflected, totals.pending) == (1, 1, 0)
    assert deflection.per_article(START)[articles[0].pk] == (1, 1)


def test_a_form_submitted_after_opening_is_not_deflected_even_when_left(client, articles):
    with time_machine.travel(START, tick=False):
        open_from_form(client, "reset-a-password", token(1))
        report(client, token(1), "submitted")
        report(client, token(1), "left")  # the page goes away as the form is posted
        totals = deflection.totals()

    assert (totals.opened, totals.deflected, totals.submitted) == (1, 0, 1)


def test_a_form_still_open_is_pending_until_the_window_passes(client, articles):
    with time_machine.travel(START, tick=False):
        open_from_form(client, "reset-a-password", token(1))
    with time_machine.travel(START + deflection.WINDOW - timedelta(seconds=1), tick=False):
        before = deflection.totals()
    with time_machine.travel(START + deflection.WINDOW, tick=False):
        after = deflection.totals()

    assert (before.deflected, before.pending) == (0, 1)
    assert (after.deflected, after.pending) == (1, 0)


def test_a_late_submission_undoes_the_deflection(client, articles):
    with time_machine.travel(START, tick=False):
        open_from_form(client, "reset-a-password", token(1))
        report(client, token(1), "left")
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        report(client, token(1), "submitted")  # back from the back-forward cache
        totals = deflection.totals()

    assert (totals.deflected, totals.submitted) == (0, 1)


def test_per_article_counts_and_totals_over_several_forms(client, articles):
    password, escalate, _internal = articles
    with time_machine.travel(START, tick=False):
        open_from_form(client, "reset-a-password", token(1))
        open_from_form(client, "escalate-a-ticket", token(1))
        report(client, token(1), "left")  # deflected: both articles get the credit
        open_from_form(client, "reset-a-password", token(2))
        report(client, token(2), "submitted")
        open_from_form(client, "escalate-a-ticket", token(3))  # still on the form
        totals = deflection.totals()
        rows = deflection.per_article()

    assert (totals.sessions, totals.opened, totals.deflected, totals.submitted,
            totals.pending) == (3, 4, 1, 1, 1)
    assert rows == {password.pk: (2, 1), escalate.pk: (2, 1)}


def test_reports_for_forms_that_opened_nothing_change_nothing(client, articles):
    assert report(client, token(9), "left") == 204
    assert not FormSession.objects.exists()


@pytest.mark.parametrize(("form", "event", "status"), [
    (token(1), "exploded", 400),
    ("short", "left", 204),
    ("bad token with spaces!!", "left", 204),
])
def test_bad_reports_are_refused_or_ignored_and_change_nothing(client, articles, form, event,
                                                               status):
    open_from_form(client, "reset-a-password", token(1))

    assert report(client, form, event) == status
    session = FormSession.objects.get()
    assert session.left_at is None and session.submitted_at is None


def test_a_bad_token_still_opens_the_article_but_counts_nothing(client, articles):
    location = open_from_form(client, "reset-a-password", "<script>")

    assert location == "/kb/articles/reset-a-password/?lang=ar"
    assert not SuggestionOpen.objects.exists()


def test_internal_or_missing_articles_cannot_be_opened_as_suggestions(client, articles):
    assert client.get("/kb/open/override/", {"fs": token(1)}).status_code == 404
    assert client.get("/kb/open/nothing/", {"fs": token(1)}).status_code == 404
    assert not SuggestionOpen.objects.exists()


def test_the_reports_need_the_forms_csrf_token(articles):
    strict = Client(enforce_csrf_checks=True)
    open_from_form(strict, "reset-a-password", token(1))

    assert report(strict, token(1), "left") == 403
    assert FormSession.objects.get().left_at is None


def test_admins_see_the_counts_on_the_desk_page_and_agents_do_not(client, articles, admin,
                                                                  agent):
    open_from_form(client, "reset-a-password", token(1))
    report(client, token(1), "left")

    page = signed_in(admin).get("/desk/kb/").content.decode()
    assert '<dd id="kb-total-opened">1</dd>' in page
    assert '<dd id="kb-total-deflected">1</dd>' in page
    row = page[page.index(f'id="article-{articles[0].pk}"'):]
    row = row[:row.index("</tr>")]
    assert '<td class="num kb-opened">1</td><td class="num kb-deflected">1</td>' in row
    assert "kb-total-opened" not in signed_in(agent).get("/desk/kb/").content.decode()
