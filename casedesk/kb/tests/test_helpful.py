"""'Was this helpful?': one answer per visitor session, changeable, without JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client

from casedesk.kb.models import HelpfulVote
from casedesk.kb.tests.conftest import publish, signed_in


@pytest.fixture
def article(section):
    return publish(section, "Reset a password", "Forgot password link.",
                   ar=("إعادة تعيين كلمة المرور", "رابط نسيت كلمة المرور."))


def vote(client: Client, answer: str, lang: str = ""):
    data = {"answer": answer, **({"lang": lang} if lang else {})}
    return client.post("/kb/articles/reset-a-password/helpful/", data)


def test_a_visitor_answers_and_is_thanked_on_the_article(client, article):
    response = vote(client, "yes")

    assert response.status_code == 303
    assert response["Location"] == "/kb/articles/reset-a-password/#helpful"
    page = client.get(response["Location"]).content.decode()
    assert "Thank you for your feedback." in page
    assert "You answered Yes. You can change your answer." in page
    assert list(HelpfulVote.objects.values_list("helpful", "language")) == [(True, "en")]


def test_one_vote_per_session_a_second_answer_replaces_the_first(client, article):
    vote(client, "yes")
    vote(client, "yes")
    vote(client, "no", lang="ar")

    assert list(HelpfulVote.objects.values_list("helpful", "language")) == [(False, "ar")]


def test_two_visitors_are_two_votes_and_agents_see_the_counts(article, agent):
    vote(Client(), "yes")
    vote(Client(), "no")
    vote(Client(), "yes")

    page = signed_in(agent).get("/kb/articles/reset-a-password/").content.decode()
    assert "Agents only: 2 yes, 1 no." in page
    desk = signed_in(agent).get("/desk/kb/").content.decode()
    assert '<td class="num">2</td><td class="num">1</td>' in desk


def test_an_arabic_reader_is_thanked_in_arabic_and_brought_back_to_arabic(client, article):
    response = vote(client, "no", lang="ar")

    assert response["Location"] == "/kb/articles/reset-a-password/?lang=ar#helpful"
    page = client.get(response["Location"]).content.decode()
    assert "شكرًا لك على ملاحظاتك." in page


@pytest.mark.parametrize("answer", ["", "maybe", "<script>"])
def test_an_answer_that_is_not_yes_or_no_is_refused_and_nothing_counted(client, article,
                                                                        answer):
    response = vote(client, answer)

    assert response.status_code == 303
    assert "Choose Yes or No." in client.get(response["Location"]).content.decode()
    assert not HelpfulVote.objects.exists()


def test_votes_on_internal_articles_by_customers_answer_404(client, section):
    publish(section, "Override", "Agents.", internal=True)

    assert client.post("/kb/articles/override/helpful/", {"answer": "yes"}).status_code == 404
    assert client.get("/kb/articles/reset-a-password/helpful/").status_code in (404, 405)
