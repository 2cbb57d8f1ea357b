from casedesk.conftest import make_case, make_contact, make_org, png_upload
from casedesk.mail.models import OutboundMail
from casedesk.tickets.models import Event, Ticket


def test_a_new_requester_gets_a_numeric_case_id_an_acknowledgement_and_an_invitation(
    db, send_mail
):
    org = make_org(plan="Premium", domains="gulfnet.example")

    submission = make_case(email="Noor@GulfNet.example", files=[png_upload()])

    ticket = submission.ticket
    assert ticket.pk == 100001
    assert ticket.organization == org
    assert submission.requester.email == "noor@gulfnet.example"
    assert submission.invited
    assert ticket.attachments.get().content_type == "image/png"
    assert list(Event.objects.filter(ticket=ticket).values_list("kind", flat=True)) == ["created"]
    mails = send_mail()
    subjects = sorted(m["Subject"] for m in mails)
    assert subjects == [
        "Your invitation to the support portal",
        f"[Case #{ticket.pk}] Filtering stopped on DNS 2",
    ]
    ack = next(m for m in mails if m["Subject"].startswith("[Case"))
    text = ack.get_content()
    assert "Case ID:   100001" in text
    assert "High (Critical)" in text
    assert "within 1 hour (Premium plan)" in text
    assert OutboundMail.objects.filter(status="sent").count() == 2


def test_case_ids_follow_each_other_and_a_known_contact_is_not_invited_again(db):
    contact = make_contact(make_org())
    first = make_case(contact)
    second = make_case(contact)
    assert second.ticket.pk == first.ticket.pk + 1
    assert not first.invited and not second.invited
    assert Ticket.objects.count() == 2
