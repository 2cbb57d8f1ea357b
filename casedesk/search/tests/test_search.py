"""Full-text search of cases through the real actions and the real engine (FTS5 on SQLite,
tsvector + GIN on PostgreSQL): what is found, kept current, ranked and rebuilt."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from casedesk.conftest import make_agent, make_case, make_contact, make_org
from casedesk.mail.ingest import ingest
from casedesk.mail.parse import parse_message
from casedesk.search import index
from casedesk.search.cases import find_cases
from casedesk.search.engine import ranked
from casedesk.search.kinds import CASE
from casedesk.search.models import Document
from casedesk.search.query import parse
from casedesk.tickets.actions import add_message, change_status, merge_cases
from casedesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def found(text: str, **options) -> list[int]:
    return ranked(CASE, parse(text), **options)


def test_subject_message_name_and_email_are_searchable(contact):
    ticket = make_case(contact, subject="Resolver latency", description="Timeouts on DNS 2").ticket
    other = make_case(subject="Billing question", description="Invoice copy please",
                      email="rania@desert.example", full_name="Rania Aziz").ticket

    assert found("resolver") == [ticket.pk]
    assert found("TIMEOUTS dns") == [ticket.pk]
    assert found("noor") == [ticket.pk]
    assert found("haddad") == [ticket.pk]
    assert found("noor@gulfnet.example") == [ticket.pk]
    assert found("gulfnet") == [ticket.pk]
    assert found("rania aziz invoice") == [other.pk]
    assert found("resolver invoice") == []


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("أحمد", "احمد"), ("احمد", "أحمد"), ("إعدادات", "اعدادات"), ("مسؤول", "مسئول"),
        ("مستشفى", "مستشفي"), ("مستشفي", "مستشفى"), ("المدرسة", "المدرسه"),
        ("المدرسه", "المدرسة"), ("مَدْرَسَةٌ", "مدرسة"), ("مدرسة", "مَدْرَسَةٌ"),
        ("العـــربية", "العربية"), ("العربية", "العـربية"), ("الشبكة", "الشبك"),
    ],
)
def test_arabic_is_found_however_it_was_typed(contact, written, typed):
    ticket = make_case(contact, subject="مشكلة في الخدمة",
                       description=f"لدينا {written} في التقرير").ticket

    assert found(typed) == [ticket.pk]


def test_the_last_word_matches_as_a_prefix_and_quotes_keep_words_together(contact):
    filtering = make_case(
        contact, subject="Filtering stopped", description="block page shown"
    ).ticket
    page_block = make_case(contact, subject="Page missing", description="a block of text").ticket

    assert found("filt") == [filtering.pk]
    assert found("filt stopped") == []  # only the last word is a prefix
    assert found('"block page"') == [filtering.pk]
    assert set(found("block page")) == {filtering.pk, page_block.pk}


def test_a_message_is_found_as_soon_as_it_is_added_from_the_desk_portal_or_email(
    contact, agent
):
    ticket = make_case(contact, subject="Slow resolver").ticket
    add_message(ticket.pk, agent, "Checked the anycast routing", [])
    assert found("anycast") == [ticket.pk]

    client = Client()
    client.force_login(contact)
    response = client.post(reverse("portal:reply", args=[ticket.pk]),
                           {"body": "Still seeing the kangaroo error"})
    assert response.status_code in (302, 303)
    assert found("kangaroo") == [ticket.pk]

    mail = EmailMessage()
    mail["From"] = "Noor Haddad <noor@gulfnet.example>"
    mail["To"] = "support@casedesk.localhost"
    mail["Subject"] = f"Re: [Case #{ticket.pk}] Slow resolver"
    mail["Message-ID"] = "<reply-1@gulfnet.example>"
    mail.set_content("The platypus report is attached.")
    result = ingest(parse_message(mail.as_bytes()))
    assert result.ticket_id == ticket.pk
    assert found("platypus") == [ticket.pk]

    new = EmailMessage()
    new["From"] = "Yusuf Karim <yusuf@desertisp.example>"
    new["To"] = "support@casedesk.localhost"
    new["Subject"] = "انقطاع الخدمة في الفرع"
    new["Message-ID"] = "<new-1@desertisp.example>"
    new.set_content("الشبكة متوقفة منذ الصباح")
    opened = ingest(parse_message(new.as_bytes()))
    assert found("انقطاع") == found("yusuf") == found("الشبكه متوقفه") == [opened.ticket_id]


def test_a_rolled_back_message_is_not_indexed(contact, agent):
    ticket = make_case(contact).ticket
    with pytest.raises(Exception, match="Only agents"):
        add_message(ticket.pk, contact, "wombat", [], internal=True)
    assert found("wombat") == []


def test_a_merged_case_s_messages_are_found_on_the_case_they_moved_to(contact, agent):
    survivor = make_case(contact, subject="Resolver latency").ticket
    merged = make_case(contact, subject="Slow lookups", description="quokka timeouts").ticket

    merge_cases(merged.pk, survivor.pk, agent)

    assert found("quokka") == [survivor.pk]
    assert found("slow lookups") == [merged.pk]


def test_internal_notes_are_searchable_by_agents_and_can_be_left_out(contact, agent):
    ticket = make_case(contact, subject="Outage").ticket
    add_message(ticket.pk, agent, "customer is on the legacy cluster", [], internal=True)

    assert found("legacy cluster") == [ticket.pk]
    assert found("legacy cluster", include_notes=False) == []
    assert found("outage", include_notes=False) == [ticket.pk]


def test_results_rank_the_subject_first_then_the_newest(contact):
    body_old = make_case(contact, subject="Question", description="the radius feed").ticket
    subject = make_case(contact, subject="Radius feed down", description="since noon").ticket
    body_new = make_case(contact, subject="Another", description="radius feed too").ticket

    assert found("radius") == [subject.pk, body_new.pk, body_old.pk]


def test_a_scope_narrows_the_search(contact, agent):
    one = make_case(contact, subject="Router agent crash").ticket
    two = make_case(contact, subject="Router agent upgrade").ticket
    change_status(two.pk, agent, Ticket.Status.CLOSED)

    open_cases = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
    assert found("router", scope=open_cases) == [one.pk]
    assert found("router", scope=Ticket.objects.filter(status="closed")) == [two.pk]


def test_the_result_page_highlights_escaped_text(contact, agent):
    ticket = make_case(contact, subject="Script <b>tags</b>",
                       description="Intro.\n\n<script>alert('x')</script> the token leaked").ticket
    add_message(ticket.pk, agent, "unrelated", [])

    page = find_cases(parse("script token"))

    hit = page.hits[0]
    assert hit.ticket.pk == ticket.pk
    assert str(hit.subject) == "<mark>Script</mark> &lt;b&gt;tags&lt;/b&gt;"
    assert str(hit.snippet.html) == (
        "Intro. &lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)&lt;/"
        "<mark>script</mark>&gt; the <mark>token</mark> leaked"
    )
    assert hit.snippet.anchor.startswith("m")


def test_the_snippet_shows_the_matching_message_as_written(contact, agent):
    ticket = make_case(contact, subject="Report", description="First message.").ticket
    add_message(ticket.pk, agent, "Nothing here.", [])
    note = add_message(ticket.pk, agent, "يجب مراجعة إعدادات المدرسة اليوم", [], internal=True)

    hit = find_cases(parse("اعدادات المدرسه")).hits[0]

    assert hit.ticket.pk == ticket.pk
    assert str(hit.snippet.html) == "يجب مراجعة <mark>إعدادات</mark> <mark>المدرسة</mark> اليوم"
    assert hit.snippet.label == "Internal note"
    assert hit.snippet.anchor == f"m{note.pk}"


def test_a_long_message_gives_a_short_snippet_around_the_match(contact):
    text = "filler " * 200 + "the needle is here " + "tail " * 200
    make_case(contact, description=text)

    snippet = str(find_cases(parse("needle")).hits[0].snippet.html)

    assert snippet.startswith("… filler") and snippet.endswith("tail …")
    assert "the <mark>needle</mark> is here" in snippet
    assert len(snippet) < 330


def test_rebuild_reproduces_the_index(contact, agent):
    first = make_case(contact, subject="Mobile app crash", description="on Android").ticket
    add_message(first.pk, agent, "Please send the crash log", [])
    add_message(first.pk, agent, "engineering note", [], internal=True)
    make_case(make_contact(make_org()), subject="تطبيق الجوال", description="لا يعمل")
    before = list(Document.objects.order_by("pk").values())

    Document.objects.all().delete()
    assert found("crash") == []
    call_command("search-rebuild", verbosity=0)

    assert list(Document.objects.order_by("pk").values()) == before
    assert found("crash log") == [first.pk]
    assert found("engineering", include_notes=False) == []
    # Built from an empty index, the engine's own index came last (without its GIN index
    # or FTS5 insert trigger meanwhile): both are back, so a case opened now is found
    later = make_case(contact, subject="Router reboot loop").ticket
    assert found("reboot loop") == [later.pk]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                           [index.GIN_INDEX])
            assert "gin (vector)" in cursor.fetchone()[0]
        else:
            cursor.execute("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
            # The big in-memory buffer was for the one bulk pass only: everyday writes are
            # back on FTS5's default.
            cursor.execute("SELECT v FROM search_fts_config WHERE k = 'hashsize'")
            assert cursor.fetchone()[0] == index.FTS_DEFAULT_HASHSIZE


def test_rebuild_drops_deleted_cases_and_a_message_repairs_a_missing_document(contact, agent):
    gone = make_case(contact, subject="Temporary").ticket
    kept = make_case(contact, subject="Permanent").ticket
    Ticket.objects.filter(pk=gone.pk).delete()
    Document.objects.filter(ref_id=kept.pk).delete()

    add_message(kept.pk, agent, "more details", [])

    assert found("permanent details") == [kept.pk]
    assert index.rebuild() == 1
    assert list(Document.objects.values_list("ref_id", flat=True)) == [kept.pk]


def test_a_very_long_thread_stops_growing_the_index_without_failing(contact, agent, settings):
    ticket = make_case(contact).ticket
    chunk = " ".join(f"word{n}" for n in range(12_000))  # about 100,000 characters
    for _ in range(3):
        add_message(ticket.pk, agent, chunk, [])
    add_message(ticket.pk, agent, "zebra", [], internal=True)

    body = Document.objects.get(ref_id=ticket.pk).body
    assert len(body) <= index.MAX_FIELD
    assert found("word11999") == [ticket.pk]
    assert found("zebra") == [ticket.pk]


def test_many_matches_are_ranked_within_the_newest_window(contact, monkeypatch):
    tickets = [make_case(contact, subject=f"Common {n}").ticket for n in range(5)]
    monkeypatch.setattr("casedesk.search.engine.WINDOW", 3)

    results = ranked(CASE, parse("common"), window=3)

    assert results == [t.pk for t in reversed(tickets)][:3]


def test_agents_of_any_kind_find_cases_of_every_organization(contact):
    theirs = make_case(make_contact(make_org("Desert Telecom")), subject="Shared term").ticket
    mine = make_case(contact, subject="Shared term").ticket
    make_agent()

    assert set(found("shared term")) == {theirs.pk, mine.pk}


def test_a_requester_who_changes_name_is_found_by_the_new_one(contact):
    ticket = make_case(contact).ticket
    contact.full_name = "Noor Khalil"
    contact.save(update_fields=["full_name"])

    index.requester_changed(contact)

    assert found("khalil") == [ticket.pk]
    assert found("haddad") == []


def test_a_last_word_common_enough_to_fill_the_window_is_not_expanded(contact):
    exact = [make_case(contact, subject=f"Subscriber {n}").ticket for n in range(3)]
    longer = make_case(contact, subject="Subscribers").ticket

    assert ranked(CASE, parse("subscriber"), window=3) == [t.pk for t in reversed(exact)]
    assert set(ranked(CASE, parse("subscriber"), window=10)) == {*(t.pk for t in exact),
                                                                   longer.pk}
