"""Fuzzing the public forms (issue 8.9): the case form (anonymous and signed in, with
generated files), sign-in, the invitation's set-password form and the Escalate widget get
generated input (any text, null bytes, huge values, unknown fields, fields missing,
numbers where text goes and the reverse).

No answer is a server error (the test client raises the view's exception), and a form
either takes the input (a case, once) or answers with the form again and changes nothing.

A few hundred examples in the normal suite; `make soak` multiplies them with
CASEDESK_FUZZ_SCALE (thousands, see docs/soak.md).
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casedesk.conftest import PASSWORD, make_case, make_contact, make_org
from casedesk.mail.models import OutboundMail
from casedesk.portal.tests.helpers import EXE_BYTES, PDF_BYTES
from casedesk.tickets.models import Ticket

SCALE = float(os.environ.get("CASEDESK_FUZZ_SCALE", "1"))


def examples(n: int) -> Any:
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


VALUE = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=300),
    st.just(""), st.just("\x00"), st.just(" " * 5), st.just("x" * 5000),
    st.integers(-10**20, 10**20).map(str), st.emails().map(str),
    st.sampled_from(["1", "2", "3", "4", "0", "-1", "999999999999999999999", "NaN", "1e9",
                     "<script>alert(1)</script>", "' OR 1=1 --", "%00", "../../etc/passwd",
                     "noor@gulfnet.example", "Noor@GulfNet.Example", "a@b", "@", "١٢٣٤"]),
)


def form_data(names: list[str]) -> Any:
    """Each known field present or missing, with any value; sometimes an unknown field."""
    known = st.fixed_dictionaries({}, optional={name: VALUE for name in names})
    extra = st.dictionaries(st.text(min_size=1, max_size=20), VALUE, max_size=2)
    return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})


UPLOAD = st.builds(
    lambda name, data, ctype: SimpleUploadedFile(name, data, content_type=ctype),
    st.one_of(st.text(min_size=1, max_size=80).map(lambda n: n.replace("/", "_") or "f"),
              st.sampled_from(["shot.png", "x.exe", "report.pdf", "a" * 300 + ".png"])),
    st.one_of(st.binary(max_size=400), st.sampled_from([EXE_BYTES, PDF_BYTES, b""])),
    st.sampled_from(["image/png", "application/pdf", "text/plain", "application/x-msdownload",
                     "", "garbage"]),
)

SUBMIT_FIELDS = ["full_name", "email", "organization_name", "phone", "subject", "category",
                 "priority", "description"]


def check_submit(client: Client, data: dict[str, Any]) -> None:
    before = Ticket.objects.count()
    response = client.post("/submit/", data)
    assert response.status_code < 500
    if response.status_code in (302, 303):
        assert "/submitted/" in response["Location"]
        assert Ticket.objects.count() == before + 1
    else:
        # Refused: the form again, with what to fix, and nothing stored.
        assert response.status_code in (200, 400, 403, 413, 429), response.status_code
        assert Ticket.objects.count() == before


@examples(20)
@given(data=form_data(SUBMIT_FIELDS), files=st.lists(UPLOAD, max_size=2))
def test_the_case_form_refuses_or_takes_anything_without_a_server_error(
    db: Any, data: dict[str, Any], files: list[SimpleUploadedFile]
) -> None:
    if files:
        data = {**data, "attachments": files}
    check_submit(Client(), data)


@examples(10)
@given(data=form_data(SUBMIT_FIELDS))
def test_the_case_form_of_a_signed_in_contact_too(db: Any, data: dict[str, Any]) -> None:
    client = Client()
    client.force_login(make_contact(make_org()))
    check_submit(client, data)


@examples(20)
@given(data=form_data(["email", "password", "next"]))
def test_sign_in_never_fails_on_our_side(db: Any, data: dict[str, Any]) -> None:
    response = Client().post("/accounts/signin/", data)
    assert response.status_code < 500
    assert "_auth_user_id" not in Client().session


@examples(10)
@given(data=form_data(["new_password1", "new_password2"]),
       token=st.one_of(st.none(), st.text(min_size=1, max_size=60)))
def test_the_invitation_form_never_fails_on_our_side(
    db: Any, data: dict[str, Any], token: str | None
) -> None:
    make_case(email=f"invitee{Ticket.objects.count()}@isp.example")
    body = OutboundMail.objects.filter(kind="invitation").latest("pk").body_text
    path = re.search(r"/accounts/invitation/[^\s/]+/", body)
    assert path is not None
    target = path.group(0)
    if token is not None:
        target = "/accounts/invitation/" + token.replace("/", "%2F").replace("?", "%3F") + "/"
    client = Client()
    assert client.get(target).status_code < 500
    assert client.post(target, data).status_code < 500


@examples(10)
@given(data=form_data(["case_id", "email", "reason", "level"]), signed_in=st.booleans())
def test_the_escalate_widget_never_fails_on_our_side(
    db: Any, data: dict[str, Any], signed_in: bool
) -> None:
    contact = make_contact(make_org(), password=PASSWORD)
    case = make_case(contact).ticket
    if data.get("case_id") == "1":
        data["case_id"] = str(case.pk)
    client = Client()
    if signed_in:
        client.force_login(contact)
    response = client.post("/escalate/", data)
    assert response.status_code < 500
