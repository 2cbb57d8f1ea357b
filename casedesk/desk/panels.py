"""What the case page shows beside the thread: the requester's and the organization's
other recent cases, CCs, attachments, linked and merged cases, macros, who else is on the
case; and the reply form a chosen macro fills in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext

from casedesk.accounts.models import User
from casedesk.desk.case_forms import CaseIdForm, CcForm
from casedesk.desk.forms import ReplyForm
from casedesk.desk.macros import fill, macros_for, values_for
from casedesk.desk.models import Macro
from casedesk.desk.presence import others_on
from casedesk.tickets.access import resolve_merged
from casedesk.tickets.models import CaseLink, Message, Ticket

RECENT = 5


def _recent(cases: Any) -> list[Ticket]:
    return list(
        cases.only("pk", "subject", "status", "priority", "created_at", "requester_id")
        .order_by("-created_at")[:RECENT]
    )


def related_cases(ticket: Ticket) -> dict[str, list[Ticket]]:
    """Linked cases, follow-ups and cases merged into this one, in two queries."""
    links = CaseLink.objects.filter(Q(low=ticket) | Q(high=ticket)).values_list(
        "low_id", "high_id"
    )
    linked_ids = {high if low == ticket.pk else low for low, high in links}
    found: dict[str, list[Ticket]] = {"linked": [], "follow_ups": [], "merged_here": []}
    # One indexed lookup per relation, in one UNION: an OR over the three columns (or an
    # ORDER BY on the Case ID) makes SQLite read the whole table (240 ms at a million).
    fields = ("pk", "subject", "status", "related_to_id", "merged_into_id")
    related = (
        Ticket.objects.filter(pk__in=linked_ids).only(*fields).order_by()
        .union(
            Ticket.objects.filter(related_to_id=ticket.pk).only(*fields).order_by(),
            Ticket.objects.filter(merged_into_id=ticket.pk).only(*fields).order_by(),
        )
    )
    for case in sorted(related, key=lambda case: case.pk):
        if case.pk in linked_ids:
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
    requester_cases = _recent(
        Ticket.objects.filter(requester_id=ticket.requester_id).exclude(pk=ticket.pk)
    )
    org_cases: list[Ticket] = []
    if ticket.organization_id is not None:
        org_cases = _recent(
            Ticket.objects.filter(organization_id=ticket.organization_id)
            .exclude(pk=ticket.pk).exclude(requester_id=ticket.requester_id)
        )
    if macros is None:
        macros = list(macros_for(agent))
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
