"""What the case page shows beside the thread: the requester's and the organization's
other recent cases, CCs, attachments, linked and merged cases, macros, who else is on the
case; and the reply form a chosen macro fills in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext

from casedesk.accounts.models import User
from casedesk.core import rows
from casedesk.desk.case_forms import CaseIdForm, CcForm
from casedesk.desk.forms import ReplyForm
from casedesk.desk.macros import fill, macro_list, macros_for, values_for
from casedesk.desk.models import Macro
from casedesk.desk.presence import others_on
from casedesk.tickets.access import resolve_merged
from casedesk.tickets.models import CaseLink, Message, Ticket

RECENT = 5


# Every read below is a fixed statement (casedesk.core.rows): each case page makes them,
# and the ORM compiled each again on every request, which cost more than running it.
_LINKS = CaseLink._meta.db_table
_TICKETS = Ticket._meta.db_table
# In the order of the model's fields (Model.from_db).
RELATED_FIELDS = ["id", "subject", "status", "related_to_id", "merged_into_id"]


def _recent(where: str, params: list[Any]) -> list[Ticket]:
    # Newest first, from the (requester, created_at) or (organization, created_at) index.
    return rows.select(Ticket, where, params, tail=f" ORDER BY created_at DESC LIMIT {RECENT}")


def related_cases(ticket: Ticket) -> dict[str, list[Ticket]]:
    """Linked cases, follow-ups and cases merged into this one, in one statement."""
    # One indexed lookup per relation, in one UNION: an OR over the three columns (or an
    # ORDER BY on the Case ID) makes SQLite read the whole table (240 ms at a million).
    # `linked` says which lookup found the case (one may be found by two).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.id, t.subject, t.status, t.related_to_id, t.merged_into_id, k.linked "  # noqa: S608 - our names
            f"FROM {_TICKETS} t JOIN ("
            f"SELECT id, 0 AS linked FROM {_TICKETS} WHERE related_to_id = %s "
            f"UNION ALL SELECT id, 0 FROM {_TICKETS} WHERE merged_into_id = %s "
            f"UNION ALL SELECT high_id, 1 FROM {_LINKS} WHERE low_id = %s "
            f"UNION ALL SELECT low_id, 1 FROM {_LINKS} WHERE high_id = %s) k ON k.id = t.id",
            [ticket.pk] * 4,
        )
        found_rows = cursor.fetchall()
    linked_ids = {row[0] for row in found_rows if row[5]}
    cases = {row[0]: Ticket.from_db(connection.alias, RELATED_FIELDS, row[:5])
             for row in found_rows}
    found: dict[str, list[Ticket]] = {"linked": [], "follow_ups": [], "merged_here": []}
    for pk in sorted(cases):
        case = cases[pk]
        if pk in linked_ids:
            found["linked"].append(case)
        if case.merged_into_id == ticket.pk:
            found["merged_here"].append(case)
        elif case.related_to_id == ticket.pk:
            found["follow_ups"].append(case)
    return found


def case_panels(
    request: HttpRequest, ticket: Ticket, agent: User, thread: Sequence[Message],
    macros: list[Macro] | None = None,
) -> dict[str, Any]:
    requester_cases = _recent("requester_id = %s AND id <> %s", [ticket.requester_id, ticket.pk])
    org_cases: list[Ticket] = []
    if ticket.organization_id is not None:
        org_cases = _recent("organization_id = %s AND id <> %s AND requester_id <> %s",
                            [ticket.organization_id, ticket.pk, ticket.requester_id])
    if macros is None:
        macros = macro_list(agent)
    values = values_for(ticket, agent) if macros else {}
    return {
        "requester_cases": requester_cases,
        "org_cases": org_cases,
        "cc_list": ticket.cc_list(),
        "cc_form": CcForm(),
        "link_form": CaseIdForm(auto_id="link_%s"),
        "merge_form": CaseIdForm(auto_id="merge_%s"),
        **related_cases(ticket),
        # Prefetched with the thread (casedesk.desk.views): no query of their own.
        "all_files": [(m, a) for m in thread for a in m.files],  # type: ignore[attr-defined]
        "macros": [(macro, fill(macro.body, values)) for macro in macros],
        "others": others_on(ticket.pk, agent),
        # The stale-reply page (case_views.reply) overrides these.
        "stale": False,
        "fresh": set(),
    }


def macro_reply_form(request: HttpRequest, ticket: Ticket, agent: User) -> ReplyForm | None:
    """The reply form filled in from `?macro=ID` (the "Use" button without JavaScript):
    the body with the placeholders replaced, status and priority pre-selected. Nothing is
    changed until the agent sends the reply."""
    raw = request.GET.get("macro", "")
    if not raw.isdigit() or len(raw) > 18:
        return None
    macro = macros_for(agent).filter(pk=int(raw)).first()
    if macro is None:
        return None
    return ReplyForm(initial={
        "body": fill(macro.body, values_for(ticket, agent)),
        "new_status": macro.status,
        "new_priority": macro.priority,
        "kind": "public",
    })


def merged_redirect(request: HttpRequest, ticket: Ticket) -> HttpResponseRedirect:
    """A merged case's page: the case it lives on now, saying so."""
    survivor = resolve_merged(ticket.pk) or ticket.pk
    messages.info(request, gettext("Case %(id)s was merged into case %(survivor)s.") % {
        "id": ticket.pk, "survivor": survivor})
    return HttpResponseRedirect(reverse("desk:case", args=[survivor]))
