"""The machinery of the permission matrix (test_permission_matrix.py holds the table).

Every URL pattern of the root URLconf, the six people who try it, the objects that fill
its URL parameters, and the one word that names each answer.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import models
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from casedesk.accounts.actions import invite
from casedesk.accounts.models import ApiToken, User, hash_token
from casedesk.accounts.tokens import create_token
from casedesk.conftest import make_agent, make_case, make_contact, make_org, png_upload
from casedesk.core.files import check_upload
from casedesk.core.jobs import prune_finished_jobs
from casedesk.core.models import SiteConfiguration
from casedesk.desk.actions import save_view
from casedesk.desk.models import Macro, SavedView
from casedesk.escalation.actions import escalate
from casedesk.escalation.models import Escalation, EscalationRequest, Shift
from casedesk.kb.actions import Text, save_article
from casedesk.kb.models import Article, Category, Section
from casedesk.mail.models import InboundMessage
from casedesk.portal.views import SUBMITTED_SALT
from casedesk.sla.models import Calendar
from casedesk.tickets.actions import add_message
from casedesk.tickets.models import Attachment, Event, Message, Ticket
from casedesk.webhooks.actions import SubscriptionData, create_subscription
from casedesk.webhooks.models import Delivery, Subscription

# The six people, in the order of every row of the table.
ROLES = ("anonymous", "contact_a", "contact_b", "loner", "agent", "admin")

# The words of the table. A status without a word is written as its number ("409").
OUTCOMES = {
    "ok": "2xx",
    "login": "a redirect to a sign-in page (accounts:signin or admin:login)",
    "redirect": "any other redirect",
    "bad": "400 or 422: the request is refused as invalid",
    "unauth": "401: credentials needed (the API)",
    "forbidden": "403",
    "notfound": "404",
    "method": "405",
}

API_PREFIX = "api/v1/"
SECRET_SUBJECT = "Quartz-7 resolver outage at Matrix A"
INTERNAL_NOTE = "Matrix internal note: the customer's firewall is misconfigured"


@dataclass(frozen=True)
class Pattern:
    key: str  # the URL name ("desk:case"), or the route for an unnamed pattern
    route: str  # the whole route from the root, as Django shows it
    parameters: tuple[str, ...]  # URL keyword arguments, in order
    pattern: URLPattern

    @property
    def is_api(self) -> bool:
        return self.route.startswith(API_PREFIX)


def _walk(resolver: URLResolver, route: str, namespace: str) -> Iterator[Pattern]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, route + str(entry.pattern), inner)
            continue
        assert isinstance(entry, URLPattern)
        whole = route + str(entry.pattern)
        key = f"{namespace}{entry.name}" if entry.name else whole
        parameters = tuple(entry.pattern.regex.groupindex)
        yield Pattern(key=key, route=whole, parameters=parameters, pattern=entry)


@functools.cache
def url_patterns() -> dict[str, Pattern]:
    """Every pattern of the root URLconf, by key. Two patterns with one key (a URL name
    used twice) are one entry: reverse() reaches only the last one anyway."""
    found: dict[str, Pattern] = {}
    for pattern in _walk(get_resolver(), "", ""):
        found.setdefault(pattern.key, pattern)
    return found


def shows(response: HttpResponseBase, world: World, role: str) -> bool:
    """Whether the answer shows `role` what is not theirs: organization A's case or its
    requester's address (to anyone but its contact and staff), the internal note (to any
    contact)."""
    if response.streaming or not 200 <= response.status_code < 300:
        return False
    body = response.content.decode(errors="replace")  # type: ignore[attr-defined]
    if role in ("agent", "admin"):
        return False
    if INTERNAL_NOTE in body:
        return True
    requester = world.people["contact_a"]
    assert requester is not None
    return role != "contact_a" and (SECRET_SUBJECT in body or requester.email in body)


def classify(response: HttpResponseBase) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return "ok"
    if 300 <= status < 400:
        location = response.get("Location", "")
        signin = (reverse("accounts:signin"), reverse("admin:login"))
        path = location.split("://", 1)[-1]
        path = path[path.index("/"):] if "://" in location and "/" in path else location
        return "login" if path.startswith(signin) else "redirect"
    return {400: "bad", 422: "bad", 401: "unauth", 403: "forbidden", 404: "notfound",
            405: "method"}.get(status, str(status))


@dataclass
class World:
    """The objects every row is tried on: all of organization A unless said otherwise, so
    that the contact of organization B (and the one without an organization) try someone
    else's things."""

    people: dict[str, User | None]
    bearer: dict[str, str]  # role -> API token secret
    sessions: dict[str, str]  # role -> session key
    case: Ticket
    other_case: Ticket  # organization B's, for merges and links
    message: Message
    attachment: Attachment
    note_attachment: Attachment  # on an internal note
    escalation: Escalation
    escalation_token: str
    submitted_token: str
    invitation_token: str
    reset: tuple[str, str]  # uidb64, token for contact A
    articles: dict[str, Article]  # public, internal, draft
    saved_view: SavedView
    macro: Macro
    agent_token: ApiToken
    contact_token: ApiToken
    subscription: Subscription
    delivery: Delivery
    extra: dict[str, Any] = field(default_factory=dict)


def _session_for(user: User) -> str:
    """The session key of a signed-in session, kept for every request of the module."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _article(section: Section, title: str, **fields: Any) -> Article:
    return save_article(by=None, section=section, texts=[Text("en", title, f"{title}, in full.")],
                        **fields)


def build_world() -> World:
    org_a = make_org("Matrix A", domains="matrix-a.example")
    org_b = make_org("Matrix B", domains="matrix-b.example")
    contact_a = make_contact(org_a, password=None)
    contact_b = make_contact(org_b, password=None)
    loner = make_contact(None, email="loner@elsewhere.example", password=None)
    agent = make_agent(password="unused-password")
    # As `casedesk createadmin` makes one.
    admin = make_agent(password="unused-password", is_staff=True, is_superuser=True)
    people: dict[str, User | None] = {
        "anonymous": None, "contact_a": contact_a, "contact_b": contact_b, "loner": loner,
        "agent": agent, "admin": admin,
    }

    # A subject found nowhere else: no page that organization A's case is not on may show it.
    case = make_case(contact_a, subject=SECRET_SUBJECT, files=[png_upload()]).ticket
    other_case = make_case(contact_b, subject="Organization B's own case").ticket
    attachment = case.attachments.get()
    message = add_message(case.pk, agent, "We are looking into it.", [])
    # An internal note with a file: agents only, the requester included never sees either.
    note = add_message(case.pk, agent, INTERNAL_NOTE, [check_upload(png_upload("note.png"))],
                       internal=True)
    note_attachment = note.attachments.get()
    escalation = escalate(case.pk, source=Escalation.Source.AGENT, reason="Matrix",
                          actor=agent)
    escalation_token = secrets.token_urlsafe(32)
    now = timezone.now()
    EscalationRequest.objects.create(
        ticket=case, case_id=case.pk, email=contact_a.email, reason="Matrix",
        token_hash=hash_token(escalation_token), created_at=now,
        expires_at=now + timedelta(hours=1),
    )

    section = Section.objects.create(
        category=Category.objects.create(title="Matrix"), title="Matrix section",
    )
    articles = {
        "public": _article(section, "Matrix public", status=Article.Status.PUBLISHED),
        "internal": _article(section, "Matrix internal", status=Article.Status.PUBLISHED,
                             internal=True),
        "draft": _article(section, "Matrix draft", status=Article.Status.DRAFT),
    }
    saved_view = save_view(agent, "Matrix view", {"status": "open"}, shared=False)
    macro = Macro.objects.create(name="Matrix macro", body="Hello", owner=agent)
    agent_bearer = create_token(agent, name="matrix")
    contact_bearer = create_token(contact_a, name="matrix")
    bearer = {"agent": agent_bearer.secret, "contact_a": contact_bearer.secret}
    for role in ("contact_b", "loner", "admin"):
        bearer[role] = create_token(people[role], name="matrix").secret  # type: ignore[arg-type]

    subscription, _secret = create_subscription(
        SubscriptionData(url="http://127.0.0.1:9/casedesk",
                         events=["case.created"], organization=org_a),
        admin,
    )
    event = Event.objects.filter(ticket=case).order_by("pk").first()
    assert event is not None
    delivery = Delivery.objects.create(
        subscription=subscription, event=event, ticket=case, event_type="case.created",
        body="{}",
    )

    # One object of each admin model that has none yet, for the admin's change pages.
    Group.objects.create(name="Matrix group")
    SiteConfiguration.objects.get_or_create(pk=1)
    Calendar.objects.create(name="Matrix calendar")
    Shift.objects.create(agent=agent, weekday=0, start=time(9), end=time(17))
    raw = b"Subject: Matrix\r\n\r\nHello\r\n"
    InboundMessage.objects.create(raw=raw, size=len(raw), sha256=hashlib.sha256(raw).hexdigest(),
                                  source=InboundMessage.Source.IMPORT)
    prune_finished_jobs.enqueue()  # a job row; no worker runs in tests

    # Signing in changes last_login, which a reset token hashes: sessions first.
    sessions = {role: _session_for(user) for role, user in people.items() if user}
    reset = (urlsafe_base64_encode(force_bytes(contact_a.pk)),
             default_token_generator.make_token(contact_a))
    invited = make_contact(org_a, password=None)
    invitation_token = invite(invited)

    return World(
        people=people,
        bearer=bearer,
        sessions=sessions,
        case=case,
        other_case=other_case,
        message=message,
        attachment=attachment,
        note_attachment=note_attachment,
        escalation=escalation,
        escalation_token=escalation_token,
        submitted_token=signing.dumps(case.pk, salt=SUBMITTED_SALT),
        invitation_token=invitation_token,
        reset=reset,
        articles=articles,
        saved_view=saved_view,
        macro=macro,
        agent_token=agent_bearer.token,
        contact_token=contact_bearer.token,
        subscription=subscription,
        delivery=delivery,
    )


def _admin_object(prefix: str) -> models.Model:
    """The first object of the admin model whose URLs start with `prefix`
    ("tickets_ticket" for admin:tickets_ticket_change, "tickets/ticket" for the old
    `tickets/ticket/<id>/` addresses)."""
    for model in admin.site._registry:
        meta = model._meta
        if prefix in (f"{meta.app_label}_{meta.model_name}", f"{meta.app_label}/{meta.model_name}"):
            found = model._default_manager.order_by("pk").first()
            if found is None:
                raise LookupError(f"no {meta.label} exists to fill the admin's object_id: "
                                  "make one in build_world()")
            return found
    raise LookupError(f"no admin model answers to {prefix!r}")


def arguments(pattern: Pattern, world: World, variant: str) -> dict[str, Any]:
    """The URL keyword arguments for `pattern`: organization A's objects, or the variant's.
    A parameter nobody here knows raises LookupError, with what to add."""
    w = world
    case_a = str(w.case.pk)
    # Per pattern (and variant) first, then by parameter name.
    by_key: dict[str, dict[str, Any]] = {
        "accounts:invitation": {"token": w.invitation_token},
        "accounts:password_reset_confirm": {"uidb64": w.reset[0], "token": w.reset[1]},
        "escalation:confirm": {"token": w.escalation_token},
        "portal:submitted": {"token": w.submitted_token},
        "api_pages:desk_revoke": {"token_id": w.agent_token.pk},
        "api_pages:portal_revoke": {"token_id": w.contact_token.pk},
        "kb:article [internal]": {"slug": w.articles["internal"].slug},
        "kb:article [draft]": {"slug": w.articles["draft"].slug},
        "kb:open [internal]": {"slug": w.articles["internal"].slug},
        "kb:helpful [internal]": {"slug": w.articles["internal"].slug},
        "api:kb_article [internal]": {"slug": w.articles["internal"].slug},
        "api:kb_article [draft]": {"slug": w.articles["draft"].slug},
        "kb_desk:edit": {"article_id": w.articles["public"].pk},
        **{
            f"{name} [internal note]": {"attachment_id": w.note_attachment.pk,
                                        "filename": w.note_attachment.filename}
            for name in ("portal:attachment", "desk:attachment", "api:attachment")
        },
        "admin:view_on_site": {
            "content_type_id": ContentType.objects.get_for_model(Ticket).pk,
            "object_id": w.case.pk,
        },
    }
    by_name: dict[str, Any] = {
        "case_id": case_a,
        "attachment_id": w.attachment.pk,
        "filename": w.attachment.filename,
        "view_id": w.saved_view.pk,
        "macro_id": w.macro.pk,
        "subscription_id": w.subscription.pk,
        "webhook_id": w.subscription.pk,  # the API's name for a subscription
        "delivery_id": w.delivery.pk,
        "organization_id": w.case.organization_id,
        "contact_id": w.case.requester_id,
        "slug": w.articles["public"].slug,
        "article_id": w.articles["public"].pk,
        "app_label": "tickets",
        "id": w.case.requester_id,  # admin:auth_user_password_change
        "inbound_id": InboundMessage.objects.order_by("pk").values_list("pk", flat=True)[0],
        "url": "no-such-page/",
    }
    key = f"{pattern.key} [{variant}]" if variant else pattern.key
    chosen = by_key.get(key, by_key.get(pattern.key, {}))
    if pattern.key.startswith("reports:"):
        chosen = {"slug": "sla"}
    values: dict[str, Any] = {}
    for name in pattern.parameters:
        if name in chosen:
            values[name] = chosen[name]
        elif name == "object_id" and pattern.key.startswith("admin:"):
            # admin:<app>_<model>_change and the like: that model's first object.
            values[name] = _admin_object(pattern.key.removeprefix("admin:").rsplit("_", 1)[0]).pk
        elif name == "object_id" and pattern.route.startswith("admin/"):
            # The admin's old-style `<app>/<model>/<id>/` addresses, redirected to change.
            values[name] = _admin_object("/".join(pattern.route.split("/")[1:3])).pk
        elif name in by_name:
            values[name] = by_name[name]
        else:
            raise LookupError(
                f"{pattern.key} has a URL parameter `{name}` the matrix cannot fill: add it "
                "to `by_name` (or to `by_key` for this pattern) in "
                "casedesk/core/tests/permissions.py, naming an object of World "
                "(of organization A, so that organization B's contact tries someone "
                "else's)."
            )
    return values


def path_for(pattern: Pattern, values: dict[str, Any]) -> str:
    """The path of `pattern` with `values`, built from the route itself so that unnamed
    patterns (the admin's catch-all, the API's 404) get one too."""
    route = pattern.route
    if pattern.pattern.name:
        return reverse(pattern.key, kwargs=values)
    # Unnamed: substitute `<conv:name>` and `(?P<name>...)` groups by hand.
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), path)
    path = path.replace("^", "").replace("$", "")
    if path.startswith(API_PREFIX) and "[" in path:
        # The API's catch-all regex (any other address under /api/v1/): one such address.
        path = API_PREFIX + "no-such-endpoint"
    return "/" + path


def request(world: World, role: str, method: str, path: str, api: bool) -> HttpResponseBase:
    """`role`'s answer: with their bearer token on the API, their session elsewhere.

    One test client serves every request: each new client loads the middleware again,
    and WhiteNoise's scan of the static files would be most of the run time. Its cookies
    are reset for each request, so nobody carries another's session or language."""
    client = world.extra.get("client")
    if client is None:
        client = world.extra["client"] = Client(raise_request_exception=False)
    client.cookies = SimpleCookie()
    headers: dict[str, str] = {}
    if role != "anonymous":
        if api:
            headers["Authorization"] = f"Bearer {world.bearer[role]}"
        else:
            client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    # From a public address (a documentation one): loopback is trusted by /metrics.
    response: HttpResponseBase = getattr(client, method)(
        path, headers=headers, REMOTE_ADDR="203.0.113.9"
    )
    return response
