"""The permission matrix: every URL pattern of the site, tried by six people, each answer
checked against MATRIX below.

The people, in the order of every row: anonymous; a contact of organization A (the
requester of the case every URL names); a contact of organization B; a contact without
an organization; an agent; an admin (an agent with is_staff and is_superuser, as
`casedesk createadmin` makes one). API endpoints (under /api/v1/) are tried with each
person's bearer token (none for anonymous), every other page with their session.

URL parameters are filled with organization A's objects (casedesk/core/tests/
permissions.py, build_world and arguments), so organization B's contact and the contact
without an organization always try someone else's case, attachment, token or contact.

Each cell is what that person gets for GET and for a POST with an empty body (nothing
may change): one word when both answers are the same, "GET/POST" when they differ
("method/ok": GET answers 405, POST 200). The words:

    ok         2xx
    login      a redirect to a sign-in page (accounts:signin or admin:login)
    redirect   any other redirect
    bad        400 or 422
    unauth     401 (the API without a token)
    forbidden  403
    notfound   404 (a foreign or hidden object answers like a missing one)
    method     405
    a number   any other status ("409"); a 500 always fails

An answer to anonymous, organization B's contact or the contact without an organization
that shows organization A's case subject or its requester's address, or an answer to any
contact that shows the case's internal note, is recorded as LEAKS, which no row can
accept (lists included, not only detail pages).

Adding a URL: run this file; the failure names the new pattern and prints the row that
was observed, ready to paste into MATRIX. Read it before pasting: a contact must never get
`ok` on a desk or admin page, organization B's contact and the contact without an
organization never `ok` on anything of organization A, and anonymous only `ok` on public
pages. Those three rules are also checked on their own (test_nobody_reaches_what_is_not_
theirs), so a pasted hole still fails. If the failure says a URL parameter cannot be
filled, add it to `arguments` in permissions.py (and the object to build_world).

To try a pattern with another object too, add a row "name [variant]" (see the knowledge
base's internal and draft articles) and its arguments in `arguments`.

A row whose pattern no longer exists fails as well: delete it.
"""

# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from casedesk.core.tests.permissions import (
    OUTCOMES,
    ROLES,
    World,
    arguments,
    build_world,
    classify,
    path_for,
    request,
    shows,
    url_patterns,
)

# Each test runs in a savepoint inside the module's transaction (see `world`).
pytestmark = pytest.mark.django_db

Row = tuple[str, str, str, str, str, str]

# The admin site lets staff in and sends everyone else to its sign-in page.
ADMIN_ONLY: Row = ("login", "login", "login", "login", "login", "ok")

MATRIX: dict[str, Row] = {
    # pattern: (anonymous, contact A, contact B, loner, agent, admin)
    "admin:index": ADMIN_ONLY,
    # The admin's sign-in form is public; signed-in staff are sent on to the index.
    "admin:login": ("login", "login", "login", "login", "login", "login"),  # our sign-in (2FA)
    "admin:logout": ("redirect", "redirect", "redirect", "redirect", "redirect", "method/ok"),
    "admin:password_change": ADMIN_ONLY,
    "admin:password_change_done": ("login", "login", "login", "login", "login", "ok/method"),
    "admin:autocomplete": ("login", "login", "login", "login", "login", "forbidden/method"),
    "admin:jsi18n": ("login", "login", "login", "login", "login", "ok/method"),
    "admin:view_on_site": ("login", "login", "login", "login", "login", "notfound"),
    "admin:auth_group_changelist": ADMIN_ONLY,
    "admin:auth_group_add": ADMIN_ONLY,
    "admin:auth_group_history": ADMIN_ONLY,
    "admin:auth_group_delete": ADMIN_ONLY,
    "admin:auth_group_change": ADMIN_ONLY,
    # The admin's old `<app>/<model>/<id>/` addresses redirect to the change page (for each model).
    "admin/auth/group/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:django_tasks_database_dbtaskresult_changelist": ADMIN_ONLY,
    "admin:django_tasks_database_dbtaskresult_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:django_tasks_database_dbtaskresult_history": ADMIN_ONLY,
    "admin:django_tasks_database_dbtaskresult_delete": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:django_tasks_database_dbtaskresult_change": ("login", "login", "login", "login", "login", "ok/forbidden"),
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:core_siteconfiguration_changelist": ADMIN_ONLY,
    "admin:core_siteconfiguration_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:core_siteconfiguration_history": ADMIN_ONLY,
    "admin:core_siteconfiguration_delete": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:core_siteconfiguration_change": ADMIN_ONLY,
    "admin/core/siteconfiguration/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:accounts_organization_changelist": ADMIN_ONLY,
    "admin:accounts_organization_add": ADMIN_ONLY,
    "admin:accounts_organization_history": ADMIN_ONLY,
    "admin:accounts_organization_delete": ADMIN_ONLY,
    "admin:accounts_organization_change": ADMIN_ONLY,
    "admin/accounts/organization/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:auth_user_password_change": ADMIN_ONLY,
    "admin:accounts_user_changelist": ADMIN_ONLY,
    "admin:accounts_user_add": ADMIN_ONLY,
    "admin:accounts_user_history": ADMIN_ONLY,
    "admin:accounts_user_delete": ADMIN_ONLY,
    "admin:accounts_user_change": ADMIN_ONLY,
    "admin/accounts/user/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:accounts_invitation_changelist": ADMIN_ONLY,
    "admin:accounts_invitation_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:accounts_invitation_history": ADMIN_ONLY,
    "admin:accounts_invitation_delete": ADMIN_ONLY,
    "admin:accounts_invitation_change": ("login", "login", "login", "login", "login", "ok/redirect"),
    "admin/accounts/invitation/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:accounts_apitoken_changelist": ADMIN_ONLY,
    "admin:accounts_apitoken_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:accounts_apitoken_history": ADMIN_ONLY,
    "admin:accounts_apitoken_delete": ADMIN_ONLY,
    "admin:accounts_apitoken_change": ("login", "login", "login", "login", "login", "ok/redirect"),
    "admin/accounts/apitoken/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:sla_plan_changelist": ADMIN_ONLY,
    "admin:sla_plan_add": ADMIN_ONLY,
    "admin:sla_plan_history": ADMIN_ONLY,
    "admin:sla_plan_delete": ADMIN_ONLY,
    "admin:sla_plan_change": ADMIN_ONLY,
    "admin/sla/plan/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:sla_calendar_changelist": ADMIN_ONLY,
    "admin:sla_calendar_add": ADMIN_ONLY,
    "admin:sla_calendar_history": ADMIN_ONLY,
    "admin:sla_calendar_delete": ADMIN_ONLY,
    "admin:sla_calendar_change": ADMIN_ONLY,
    "admin/sla/calendar/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:sla_clock_changelist": ADMIN_ONLY,
    "admin:sla_clock_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:sla_clock_history": ADMIN_ONLY,
    "admin:sla_clock_delete": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:sla_clock_change": ("login", "login", "login", "login", "login", "ok/forbidden"),
    "admin/sla/clock/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:escalation_level_changelist": ADMIN_ONLY,
    "admin:escalation_level_add": ADMIN_ONLY,
    "admin:escalation_level_history": ADMIN_ONLY,
    "admin:escalation_level_delete": ADMIN_ONLY,
    "admin:escalation_level_change": ADMIN_ONLY,
    "admin/escalation/level/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:escalation_shift_changelist": ADMIN_ONLY,
    "admin:escalation_shift_add": ADMIN_ONLY,
    "admin:escalation_shift_history": ADMIN_ONLY,
    "admin:escalation_shift_delete": ADMIN_ONLY,
    "admin:escalation_shift_change": ADMIN_ONLY,
    "admin/escalation/shift/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:escalation_escalation_changelist": ADMIN_ONLY,
    "admin:escalation_escalation_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:escalation_escalation_history": ADMIN_ONLY,
    "admin:escalation_escalation_delete": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:escalation_escalation_change": ("login", "login", "login", "login", "login", "ok/forbidden"),
    "admin/escalation/escalation/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:escalation_escalationrequest_changelist": ADMIN_ONLY,
    "admin:escalation_escalationrequest_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:escalation_escalationrequest_history": ADMIN_ONLY,
    "admin:escalation_escalationrequest_delete": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:escalation_escalationrequest_change": ("login", "login", "login", "login", "login", "ok/forbidden"),
    "admin/escalation/escalationrequest/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:tickets_category_changelist": ADMIN_ONLY,
    "admin:tickets_category_add": ADMIN_ONLY,
    "admin:tickets_category_history": ADMIN_ONLY,
    "admin:tickets_category_delete": ADMIN_ONLY,
    "admin:tickets_category_change": ADMIN_ONLY,
    "admin/tickets/category/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:tickets_ticket_changelist": ADMIN_ONLY,
    "admin:tickets_ticket_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:tickets_ticket_history": ADMIN_ONLY,
    "admin:tickets_ticket_delete": ADMIN_ONLY,
    "admin:tickets_ticket_change": ("login", "login", "login", "login", "login", "ok/forbidden"),
    "admin/tickets/ticket/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:tickets_event_changelist": ADMIN_ONLY,
    "admin:tickets_event_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:tickets_event_history": ADMIN_ONLY,
    "admin:tickets_event_delete": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:tickets_event_change": ("login", "login", "login", "login", "login", "ok/forbidden"),
    "admin/tickets/event/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:mail_outboundmail_changelist": ADMIN_ONLY,
    "admin:mail_outboundmail_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:mail_outboundmail_history": ADMIN_ONLY,
    "admin:mail_outboundmail_delete": ADMIN_ONLY,
    "admin:mail_outboundmail_change": ("login", "login", "login", "login", "login", "ok/redirect"),
    "admin/mail/outboundmail/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:mail_inboundmessage_raw": ADMIN_ONLY,
    "admin:mail_inboundmessage_changelist": ADMIN_ONLY,
    "admin:mail_inboundmessage_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:mail_inboundmessage_history": ADMIN_ONLY,
    "admin:mail_inboundmessage_delete": ADMIN_ONLY,
    "admin:mail_inboundmessage_change": ("login", "login", "login", "login", "login", "ok/forbidden"),
    "admin/mail/inboundmessage/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:kb_category_changelist": ADMIN_ONLY,
    "admin:kb_category_add": ADMIN_ONLY,
    "admin:kb_category_history": ADMIN_ONLY,
    "admin:kb_category_delete": ADMIN_ONLY,
    "admin:kb_category_change": ADMIN_ONLY,
    "admin/kb/category/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:kb_section_changelist": ADMIN_ONLY,
    "admin:kb_section_add": ADMIN_ONLY,
    "admin:kb_section_history": ADMIN_ONLY,
    "admin:kb_section_delete": ADMIN_ONLY,
    "admin:kb_section_change": ADMIN_ONLY,
    "admin/kb/section/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:kb_article_changelist": ADMIN_ONLY,
    "admin:kb_article_add": ADMIN_ONLY,
    "admin:kb_article_history": ADMIN_ONLY,
    "admin:kb_article_delete": ADMIN_ONLY,
    "admin:kb_article_change": ADMIN_ONLY,
    "admin/kb/article/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:app_list": ADMIN_ONLY,
    "admin/(?P<url>.*)$": ("login", "login", "login", "login", "login", "notfound"),
    "accounts:signin": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "accounts:signout": ("redirect", "ok/redirect", "ok/redirect", "ok/redirect", "ok/redirect", "ok/redirect"),
    "accounts:profile": ("login", "ok/redirect", "ok/redirect", "ok/redirect", "ok/redirect", "ok/redirect"),
    "accounts:invitation": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "accounts:password_reset": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "accounts:password_reset_done": ("ok/method", "ok/method", "ok/method", "ok/method", "ok/method", "ok/method"),
    # Django moves a valid token into the session and redirects to the form.
    "accounts:password_reset_confirm": ("redirect", "redirect", "redirect", "redirect", "redirect", "redirect"),
    "accounts:password_reset_complete": ("ok", "ok", "ok", "ok", "ok", "ok"),
    # The API: a 401 without a token; a foreign object is a 404; lists are filtered to what
    # the token's person may see (and checked for organization A's case by `shows`).
    "api:schema": ("ok/method", "ok/method", "ok/method", "ok/method", "ok/method", "ok/method"),
    "api:docs": ("ok/method", "ok/method", "ok/method", "ok/method", "ok/method", "ok/method"),
    "api:redoc": ("ok/method", "ok/method", "ok/method", "ok/method", "ok/method", "ok/method"),
    "api:organizations": ("unauth", "ok/forbidden", "ok/forbidden", "ok/forbidden", "ok/forbidden", "ok/415"),
    "api:organization": ("unauth", "ok/method", "notfound/method", "notfound/method", "ok/method", "ok/method"),
    "api:contacts": ("unauth", "ok/forbidden", "ok/forbidden", "ok/forbidden", "ok/415", "ok/415"),
    "api:contact": ("unauth", "ok/method", "notfound/method", "notfound/method", "ok/method", "ok/method"),
    "api:cases": ("unauth", "ok/bad", "ok/bad", "ok/bad", "ok/bad", "ok/bad"),
    "api:case": ("unauth", "ok/method", "notfound", "notfound", "ok/method", "ok/method"),
    "api:messages": ("unauth", "ok/bad", "notfound", "notfound", "ok/bad", "ok/bad"),
    "api:attachment": ("unauth", "ok/method", "notfound", "notfound", "ok/method", "ok/method"),
    "api:attachment [internal note]": ("unauth", "notfound/method", "notfound", "notfound", "ok/method", "ok/method"),
    "api:escalations": ("unauth", "ok/415", "notfound", "notfound", "ok/415", "ok/415"),
    "api:kb_articles": ("ok/method", "ok/method", "ok/method", "ok/method", "ok/method", "ok/method"),
    "api:kb_article": ("ok/method", "ok/method", "ok/method", "ok/method", "ok/method", "ok/method"),
    "api:kb_article [internal]": ("notfound/method", "notfound/method", "notfound/method", "notfound/method", "ok/method", "ok/method"),
    "api:kb_article [draft]": ("notfound/method", "notfound/method", "notfound/method", "notfound/method", "ok/method", "ok/method"),
    # Organization A's subscription: its contact manages it, B's contact gets a 404; a
    # contact without an organization and a non-admin agent may not subscribe at all.
    "api:webhooks": ("unauth", "ok/415", "ok/415", "forbidden", "forbidden", "ok/415"),
    "api:webhook": ("unauth", "ok/method", "notfound", "forbidden", "forbidden", "ok/method"),
    "api:webhook_deliveries": ("unauth", "ok/method", "notfound", "forbidden", "forbidden", "ok/method"),
    "api:webhook_secret": ("unauth", "method/ok", "notfound", "forbidden", "forbidden", "method/ok"),
    "api:webhook_replay": ("unauth", "method/ok", "notfound", "forbidden", "forbidden", "method/ok"),
    r"api/v1/^[\s\S]*$": ("notfound", "notfound", "notfound", "notfound", "notfound", "notfound"),
    # Token pages: the desk's are agents' (an admin revokes anyone's); the portal's are any
    # signed-in person's own.
    "api_pages:desk_tokens": ("login", "notfound", "notfound", "notfound", "ok", "ok"),
    "api_pages:desk_revoke": ("login", "notfound", "notfound", "notfound", "method/redirect", "method/redirect"),
    "api_pages:portal_tokens": ("login", "ok", "ok", "ok", "ok", "ok"),
    "api_pages:portal_revoke": ("login", "method/redirect", "method/notfound", "method/notfound", "method/notfound", "method/redirect"),
    "set_language": ("method/redirect", "method/redirect", "method/redirect", "method/redirect", "method/redirect", "method/redirect"),
    "reports:index": ("login", "notfound", "notfound", "notfound", "ok/method", "ok/method"),
    "reports:chart": ("login", "notfound", "notfound", "notfound", "ok/method", "ok/method"),
    "reports:csv": ("login", "notfound", "notfound", "notfound", "ok/method", "ok/method"),
    # Webhooks: admins only, a 404 for everyone else signed in.
    "webhooks:list": ("login", "notfound", "notfound", "notfound", "notfound", "ok"),
    "webhooks:create": ("login", "notfound", "notfound", "notfound", "notfound", "ok"),
    "webhooks:detail": ("login", "notfound", "notfound", "notfound", "notfound", "ok"),
    "webhooks:edit": ("login", "notfound", "notfound", "notfound", "notfound", "ok/bad"),
    "webhooks:delete": ("login", "notfound", "notfound", "notfound", "notfound", "ok/redirect"),
    "webhooks:secret": ("login", "notfound", "notfound", "notfound", "notfound", "method/redirect"),
    "webhooks:delivery": ("login", "notfound", "notfound", "notfound", "notfound", "ok"),
    "webhooks:replay": ("login", "notfound", "notfound", "notfound", "notfound", "method/redirect"),
    "kb_desk:list": ("login", "notfound", "notfound", "notfound", "ok", "ok"),
    "kb_desk:new": ("login", "notfound", "notfound", "notfound", "ok", "ok"),
    "kb_desk:edit": ("login", "notfound", "notfound", "notfound", "ok", "ok"),
    "kb_desk:lookup": ("login", "notfound", "notfound", "notfound", "ok", "ok"),
    "kb:home": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "kb:search": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "kb:suggest": ("ok/method", "ok/method", "ok/method", "ok/method", "ok/method", "ok/method"),
    "kb:form_event": ("method/bad", "method/bad", "method/bad", "method/bad", "method/bad", "method/bad"),
    "kb:open": ("redirect/method", "redirect/method", "redirect/method", "redirect/method", "redirect/method", "redirect/method"),
    "kb:article": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "kb:helpful": ("method/redirect", "method/redirect", "method/redirect", "method/redirect", "method/redirect", "method/redirect"),
    # The knowledge base's internal and draft articles (the rows above use a public one):
    # agents only; a suggestion link never opens one.
    "kb:article [internal]": ("notfound", "notfound", "notfound", "notfound", "ok", "ok"),
    "kb:article [draft]": ("notfound", "notfound", "notfound", "notfound", "ok", "ok"),
    "kb:open [internal]": ("notfound/method", "notfound/method", "notfound/method", "notfound/method", "notfound/method", "notfound/method"),
    "kb:helpful [internal]": ("method/notfound", "method/notfound", "method/notfound", "method/notfound", "method/redirect", "method/redirect"),
    # The desk: agents only; a contact gets a 404 (the queue and search send them to the portal).
    "desk:queue": ("login", "redirect", "redirect", "redirect", "ok/method", "ok/method"),
    "desk:search": ("login", "redirect", "redirect", "redirect", "ok/method", "ok/method"),
    "desk:bulk": ("login", "notfound", "notfound", "notfound", "method/redirect", "method/redirect"),
    "desk:saved_view_create": ("login", "notfound", "notfound", "notfound", "method/redirect", "method/redirect"),
    "desk:saved_view_rename": ("login", "notfound", "notfound", "notfound", "method/redirect", "method/notfound"),
    "desk:saved_view_delete": ("login", "notfound", "notfound", "notfound", "method/redirect", "method/notfound"),
    "desk:case": ("login", "notfound", "notfound", "notfound", "ok/method", "ok/method"),
    "desk:reply": ("login", "notfound", "notfound", "notfound", "redirect/ok", "redirect/ok"),
    "desk:update": ("login", "notfound", "notfound", "notfound", "redirect/ok", "redirect/ok"),
    "desk:escalate": ("login", "notfound", "notfound", "notfound", "redirect/ok", "redirect/ok"),
    "desk:phone_escalation": ("login", "notfound", "notfound", "notfound", "redirect/ok", "redirect/ok"),
    "desk:attachment": ("login", "notfound", "notfound", "notfound", "ok/method", "ok/method"),
    "desk:attachment [internal note]": ("login", "notfound", "notfound", "notfound", "ok/method", "ok/method"),
    "desk:cc_add": ("login", "notfound", "notfound", "notfound", "method/ok", "method/ok"),
    "desk:cc_remove": ("login", "notfound", "notfound", "notfound", "method/redirect", "method/redirect"),
    "desk:link_add": ("login", "notfound", "notfound", "notfound", "method/ok", "method/ok"),
    "desk:link_remove": ("login", "notfound", "notfound", "notfound", "method/redirect", "method/redirect"),
    "desk:merge": ("login", "notfound", "notfound", "notfound", "method/ok", "method/ok"),
    "desk:presence": ("login", "notfound", "notfound", "notfound", "method/bad", "method/bad"),
    "desk:macros": ("login", "notfound", "notfound", "notfound", "ok/method", "ok/method"),
    "desk:macro_new": ("login", "notfound", "notfound", "notfound", "ok", "ok"),
    "desk:macro_edit": ("login", "notfound", "notfound", "notfound", "ok", "notfound"),
    "desk:macro_delete": ("login", "notfound", "notfound", "notfound", "method/redirect", "method/notfound"),
    # The escalation widget is public (it needs a Case ID and the requester's address); the
    # confirmation link is a capability, an empty POST to it is refused as a conflict.
    "escalation:widget": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "escalation:sent": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "escalation:confirm": ("ok/409", "ok/409", "ok/409", "ok/409", "ok/409", "ok/409"),
    # Probes are public; /metrics only for CASEDESK_METRICS_ALLOWED_IPS or its token (requests
    # here come from a public address).
    "ops:healthz": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "ops:readyz": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "ops:metrics": ("forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden"),
    # The portal: a contact sees their organization's cases only; an agent is sent to the desk.
    "portal:home": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "portal:submit": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "portal:submitted": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "portal:cases": ("login", "ok", "ok", "ok", "ok", "ok"),
    "portal:case": ("login", "ok", "notfound", "notfound", "redirect", "redirect"),
    "portal:reply": ("login", "redirect/ok", "notfound", "notfound", "notfound", "notfound"),
    "portal:close": ("login", "redirect", "notfound", "notfound", "notfound", "notfound"),
    "portal:reopen": ("login", "redirect", "notfound", "notfound", "notfound", "notfound"),
    "portal:attachment": ("login", "ok", "notfound", "notfound", "redirect", "redirect"),
    "portal:attachment [internal note]": ("login", "notfound", "notfound", "notfound", "redirect", "redirect"),
    "portal:logo": ("notfound", "notfound", "notfound", "notfound", "notfound", "notfound"),
    # Two-factor sign-in, the security policy and the audit history (issue 8.4, 8.7).
    "admin_signin": ("login", "login", "login", "login", "login", "login"),
    "admin:core_auditentry_changelist": ("login", "login", "login", "login", "login", "ok"),
    "admin:core_auditentry_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:core_auditentry_history": ("login", "login", "login", "login", "login", "ok"),
    "admin:core_auditentry_delete": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:core_auditentry_change": ("login", "login", "login", "login", "login", "ok/forbidden"),
    "admin/core/auditentry/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:accounts_securitypolicy_changelist": ("login", "login", "login", "login", "login", "ok"),
    "admin:accounts_securitypolicy_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:accounts_securitypolicy_history": ("login", "login", "login", "login", "login", "ok"),
    "admin:accounts_securitypolicy_delete": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:accounts_securitypolicy_change": ("login", "login", "login", "login", "login", "ok/redirect"),
    "admin/accounts/securitypolicy/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "admin:accounts_twofactor_changelist": ("login", "login", "login", "login", "login", "ok"),
    "admin:accounts_twofactor_add": ("login", "login", "login", "login", "login", "forbidden"),
    "admin:accounts_twofactor_history": ("login", "login", "login", "login", "login", "ok"),
    "admin:accounts_twofactor_delete": ("login", "login", "login", "login", "login", "ok"),
    "admin:accounts_twofactor_change": ("login", "login", "login", "login", "login", "ok/redirect"),
    "admin/accounts/twofactor/<path:object_id>/": ("login", "login", "login", "login", "login", "redirect"),
    "accounts:signin_code": ("login", "login", "login", "login", "login", "login"),
    "accounts:two_factor": ("login", "notfound", "notfound", "notfound", "ok", "ok"),
    "accounts:recovery_codes": ("login", "notfound", "notfound", "notfound", "redirect", "redirect"),
    "accounts:two_factor_disable": ("method/login", "method/notfound", "method/notfound", "method/notfound", "method/redirect", "method/redirect"),
    "accounts:renew_recovery_codes": ("method/login", "method/notfound", "method/notfound", "method/notfound", "method/redirect", "method/redirect"),
    "audit:history": ("login", "notfound", "notfound", "notfound", "notfound", "ok"),
}


# Answers 503 rather than 200 when a check fails (on PostgreSQL the world's queued job
# counts as lag): who may reach it is all this matrix asks.
HEALTH_DEPENDENT = {"ops:readyz"}

def split(key: str) -> tuple[str, str]:
    """"kb:article [draft]" -> ("kb:article", "draft")."""
    if key.endswith("]") and " [" in key:
        name, _, variant = key[:-1].partition(" [")
        return name, variant
    return key, ""


@pytest.fixture(scope="module")
def world(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One set of people and objects for the whole module, in a transaction rolled back at
    its end; each test runs in a savepoint of its own (pytest-django's django_db)."""
    folder = tmp_path_factory.mktemp("matrix")
    with override_settings(
        MEDIA_ROOT=str(folder / "uploads"),
        CASEDESK_EMAIL_URL=f"file://{folder / 'outbox'}",
        EMAIL_BACKEND="casedesk.mail.backends.UrlEmailBackend",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # The subscription points at loopback; it is never called (nothing is committed).
        CASEDESK_WEBHOOK_ALLOW_PRIVATE=True,
    ), django_db_blocker.unblock(), transaction.atomic():
        cache.clear()
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _isolated_files() -> None:
    """Replaces the suite's per-test upload folder: the world's attachment lives in the
    module's folder (set by `world`), and must still be there for every test."""


def observe(key: str, world: World) -> Row:
    """What each person gets for GET, then for POST, as table cells. GETs go first: a POST
    may end its sender's session (signing out)."""
    name, variant = split(key)
    pattern = url_patterns()[name]
    path = path_for(pattern, arguments(pattern, world, variant))
    answers: dict[str, list[str]] = {role: [] for role in ROLES}
    # Whatever a POST changed (a session ended, a token revoked) is undone before the
    # next pattern.
    with transaction.atomic():
        for method in ("get", "post"):
            for role in ROLES:
                response = request(world, role, method, path, pattern.is_api)
                outcome = classify(response)
                if name in HEALTH_DEPENDENT and outcome == "503":
                    outcome = "ok"  # reached: the system is just not ready (a job waits)
                if name not in CAPABILITIES and shows(response, world, role):
                    # Not an outcome word: no row can accept it.
                    outcome = "LEAKS"
                answers[role].append(outcome)
        transaction.set_rollback(True)
    cells = [got if got == posted else f"{got}/{posted}" for got, posted in answers.values()]
    return tuple(cells)  # type: ignore[return-value]


def row_text(key: str, row: Row) -> str:
    cells = ", ".join(f'"{cell}"' for cell in row)
    return f'    "{key}": ({cells}),'


def test_every_url_pattern_has_a_row(world: World) -> None:
    patterns = url_patterns()
    rows = {split(key)[0] for key in MATRIX}
    missing = [key for key in patterns if key not in rows]
    lines = []
    for key in missing:
        try:
            lines.append(row_text(key, observe(key, world)))
        except LookupError as error:
            lines.append(f"    # {error}")
    assert not missing, (
        f"{len(missing)} URL pattern(s) have no row in MATRIX "
        "(casedesk/core/tests/test_permission_matrix.py). Observed now, to check "
        "against the rules in the docstring before pasting:\n" + "\n".join(lines)
    )


def test_every_row_names_a_url_pattern() -> None:
    patterns = url_patterns()
    gone = [key for key in MATRIX if split(key)[0] not in patterns]
    assert not gone, f"MATRIX rows for URL patterns that no longer exist; delete them: {gone}"
    words = set(OUTCOMES)
    unknown = {
        cell for row in MATRIX.values() for cell in row for word in cell.split("/")
        if word not in words and not word.isdigit()
    }
    assert not unknown, f"cells in MATRIX that are not outcome words: {sorted(unknown)}"


# Where nobody but staff may get an answer, whatever the table says.
PRIVATE_ROUTES = ("desk/", "admin/", "account/", "accounts/profile/", "cases/", "api/v1/")
# Public pages under those: the admin's sign-in form, the API's description, and the
# knowledge base's public articles (as on /kb/; internal and draft ones are agents').
PUBLIC_EXCEPTIONS = {"admin:login", "api:schema", "api:docs", "api:redoc", "api:kb_articles",
                     "api:kb_article"}
# A URL naming one of these names an object of organization A (see `arguments`).
OWNED_PARAMETERS = {"case_id", "attachment_id", "organization_id", "contact_id", "token_id",
                    "subscription_id", "delivery_id", "view_id", "macro_id", "webhook_id"}
# Capability links: whoever holds the mailed or signed token may use it, signed in or not.
CAPABILITIES = {"accounts:invitation", "accounts:password_reset_confirm", "escalation:confirm",
                "portal:submitted"}


def reached(cell: str) -> bool:
    return "ok" in cell.split("/")


def test_nobody_reaches_what_is_not_theirs() -> None:
    """The table may not write a hole down: these hold for every row, whatever it says."""
    patterns = url_patterns()
    holes = []
    for key, row in MATRIX.items():
        name, _variant = split(key)
        pattern = patterns.get(name)
        if pattern is None:
            continue
        cells = dict(zip(ROLES, row, strict=True))
        private = pattern.route.startswith(PRIVATE_ROUTES) and name not in PUBLIC_EXCEPTIONS
        staff_only = pattern.route.startswith(("desk/", "admin/")) and name != "admin:login"
        owned = bool(OWNED_PARAMETERS & set(pattern.parameters)) and name not in CAPABILITIES
        if private and reached(cells["anonymous"]):
            holes.append(f"{key}: anonymous reaches a private page")
        for role in ("contact_a", "contact_b", "loner"):
            if staff_only and reached(cells[role]):
                holes.append(f"{key}: a contact ({role}) reaches a staff page")
        for role in ("contact_b", "loner"):
            if owned and reached(cells[role]):
                holes.append(f"{key}: {role} reaches organization A's object")
        if any("500" in cell.split("/") for cell in row):
            holes.append(f"{key}: a server error")
    assert not holes, "\n".join(holes)


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_answers_match_the_table(key: str, world: World) -> None:
    observed = observe(key, world)
    differences = [
        f"{role}: expected {want}, got {got}"
        for role, want, got in zip(ROLES, MATRIX[key], observed, strict=True) if want != got
    ]
    assert not differences, "; ".join(differences) + "\nobserved row:\n" + row_text(key, observed)
