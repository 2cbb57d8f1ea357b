"""Macros: canned replies with placeholders, filled in for one case.

Agents write the text, so it is never run as a Django template (which could reach any
attribute of any object in its context): the only thing ever replaced is one of the
placeholders below, written `{{name}}` (spaces inside the braces allowed), by a plain
string. Anything else between double braces is refused when the macro is saved.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import User
from casedesk.core import rows
from casedesk.core.format import duration_text
from casedesk.desk.models import Macro
from casedesk.sla.terms import first_response_terms
from casedesk.tickets.models import Ticket

# The names stay English in every language (they are typed into the macro's text); what
# each one stands for is translated.
PLACEHOLDERS: dict[str, str | Promise] = {
    "requester_name": _("the requester's name"),
    "case_id": _("the Case ID"),
    "agent_name": _("your name (the agent sending the reply)"),
    "plan_target": _("the first response time of the case's plan, for its priority"),
}

_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"^\s*([a-z_]+)\s*$")


def placeholder_help() -> str:
    return ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)


def check_body(body: str) -> None:
    """Raise ValidationError naming every unknown or unclosed placeholder."""
    unknown = []
    for match in _BRACES.finditer(body):
        name = _NAME.match(match.group(1))
        if name is None or name.group(1) not in PLACEHOLDERS:
            unknown.append(match.group(0))
    rest = _BRACES.sub("", body)
    if unknown:
        names = ", ".join(dict.fromkeys(unknown))
        raise ValidationError(ngettext(
            "Unknown placeholder %(names)s. Use only %(known)s.",
            "Unknown placeholders %(names)s. Use only %(known)s.",
            len(unknown),
        ) % {"names": names, "known": placeholder_help()})
    if "{{" in rest or "}}" in rest:
        raise ValidationError(gettext(
            "A placeholder is not closed: write it as {{case_id}}, with two braces on "
            "each side."
        ))


def plan_target(ticket: Ticket) -> str:
    seconds = first_response_terms(ticket)[2]
    return duration_text(timedelta(seconds=seconds)) if seconds else ""


def values_for(ticket: Ticket, agent: User) -> dict[str, str]:
    return {
        "requester_name": ticket.requester.get_full_name(),
        "case_id": str(ticket.pk),
        "agent_name": agent.get_full_name(),
        "plan_target": plan_target(ticket),
    }


def fill(body: str, values: dict[str, str]) -> str:
    """The body with each known placeholder replaced; a saved body has no other."""

    def replace(match: re.Match[str]) -> str:
        name = _NAME.match(match.group(1))
        if name is not None and name.group(1) in values:
            return values[name.group(1)]
        return match.group(0)

    return _BRACES.sub(replace, body)


def macros_for(agent: User) -> QuerySet[Macro]:
    """The macros an agent may use: their own and the shared ones."""
    return Macro.objects.filter(Q(owner=agent) | Q(owner__isnull=True)).order_by(
        "name", "pk"
    )


def macro_list(agent: User) -> list[Macro]:
    """macros_for(agent) as a list, read by a fixed statement (each case page lists them;
    compiling the ORM's query cost more than running it)."""
    return rows.select(Macro, "owner_id = %s OR owner_id IS NULL", [agent.pk],
                       tail=" ORDER BY name, id")


def may_edit(agent: User, macro: Macro) -> bool:
    """Personal macros are their owner's; shared ones their author's and admins'."""
    if macro.owner_id is not None:
        return macro.owner_id == agent.pk
    return agent.is_staff or macro.created_by_id == agent.pk
