"""Bulk actions on the cases an agent ticked in the queue: all of them, or none.

Each case goes through the same action function as on its own page (casedesk.tickets.
actions, casedesk.escalation.actions), so each gets its own Event, SLA recomputation and
mail. They all run in one transaction: the first refusal rolls back every change made to
the cases before it, and the agent is told which case was refused and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext, ngettext, ngettext_lazy

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.escalation.actions import EscalationRefused, escalate
from casedesk.escalation.models import Escalation
from casedesk.tickets.actions import (
    ActionError,
    assign,
    change_priority,
    change_status,
    merge_cases,
)
from casedesk.tickets.models import Ticket


class BulkRefused(Exception):
    """Nothing was changed; the message says why, naming the case when one was refused."""


@dataclass(frozen=True)
class BulkDone:
    count: int
    text: str
    # Escalations that found nobody on shift: the agent should know at once.
    warnings: tuple[str, ...] = ()


def apply_bulk(agent: User, case_ids: list[int], action: str, **values: Any) -> BulkDone:
    """Apply `action` to every case of `case_ids`, or to none (BulkRefused says why).

    values: assignee (User or None) for "assign", status, priority, to_level and reason
    for "escalate", merge_into (a Case ID) for "merge".
    """
    if not agent.is_agent:
        raise BulkRefused(gettext("Only agents can change cases in bulk."))
    ids = sorted(set(case_ids))
    if not ids:
        raise BulkRefused(gettext("Tick at least one case first."))
    existing = set(Ticket.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [pk for pk in ids if pk not in existing]
    if missing:
        if len(missing) > 1:
            raise BulkRefused(ngettext(
                "There is no case %(id)s (nor %(more)s more case). Nothing was changed.",
                "There is no case %(id)s (nor %(more)s more cases). Nothing was changed.",
                len(missing) - 1,
            ) % {"id": missing[0], "more": len(missing) - 1})
        raise BulkRefused(
            gettext("There is no case %(id)s. Nothing was changed.") % {"id": missing[0]}
        )
    step, summary = _plan(agent, ids, action, values)
    targets = [pk for pk in ids if not (action == "merge" and pk == values.get("merge_into"))]
    warnings: list[str] = []
    with transaction.atomic():
        # Cases are locked one by one in Case ID order: two bulk actions over
            # overlapping selections then take their locks in the same order and the
            # second waits for the first instead of deadlocking with it.
            for pk in targets:
                try:
                    outcome = step(pk)
                except (ActionError, EscalationRefused) as exc:
                    raise BulkRefused(ngettext(
                        "Case %(id)s: %(problem)s Nothing was changed.",
                        "Case %(id)s: %(problem)s Nothing was changed, on any of the "
                        "%(count)s cases.",
                        len(targets),
                    ) % {"id": pk, "problem": exc, "count": len(targets)}) from None
                if isinstance(outcome, Escalation) and outcome.nobody_on_shift:
                    warnings.append(str(pk))
    notes: tuple[str, ...] = ()
    if warnings:
        notes = (ngettext(
            "Nobody of the level's team is on shift: case %(ids)s waits unassigned and the "
            "level's contacts were alerted.",
            "Nobody of the level's team is on shift: cases %(ids)s wait unassigned and the "
            "level's contacts were alerted.",
            len(warnings),
        ) % {"ids": ", ".join(warnings)},)
    return BulkDone(len(targets), summary(len(targets)), notes)


Step = Callable[[int], Any]
# The sentence that reports the action, given how many cases it changed.
Summary = Callable[[int], str]


def _counted(message: Any, **values: Any) -> Summary:
    """A summary with the number of cases in it. `message` is an ngettext_lazy keyed on
    "count": the form for the count is picked when it is known (Arabic has six)."""
    return lambda count: str(message % {"count": count, **values})


def _plan(agent: User, ids: list[int], action: str,
          values: dict[str, Any]) -> tuple[Step, Summary]:
    """The function applied to each case, and the sentence that reports it."""
    if action == "assign":
        assignee: User | None = values.get("assignee")
        who = assignee.get_full_name() if assignee else None
        if who:
            return (lambda pk: assign(pk, agent, assignee), _counted(ngettext_lazy(
                "Assigned %(count)s case to %(who)s.",
                "Assigned %(count)s cases to %(who)s.", "count"), who=who))
        return (lambda pk: assign(pk, agent, None), _counted(ngettext_lazy(
            "Unassigned %(count)s case.", "Unassigned %(count)s cases.", "count")))
    if action == "status":
        status = str(values.get("status"))
        if status not in Ticket.Status.values:
            raise BulkRefused(
                gettext("“%(value)s” is not a status. Nothing was changed.") % {"value": status}
            )
        label = Ticket.Status(status).label
        return (lambda pk: change_status(pk, agent, status), _counted(ngettext_lazy(
            "Set %(count)s case to %(status)s.",
            "Set %(count)s cases to %(status)s.", "count"), status=label))
    if action == "priority":
        priority = values.get("priority")
        if priority not in Priority.values:
            raise BulkRefused(gettext(
                "“%(value)s” is not a priority. Nothing was changed."
            ) % {"value": priority})
        label = Priority(priority).label
        return (lambda pk: change_priority(pk, agent, int(priority)), _counted(ngettext_lazy(
            "Set %(count)s case to priority %(priority)s.",
            "Set %(count)s cases to priority %(priority)s.", "count"), priority=label))
    if action == "escalate":
        reason = str(values.get("reason") or "").strip()
        to_level = values.get("to_level")

        def step(pk: int) -> Escalation:
            return escalate(pk, source=Escalation.Source.AGENT, reason=reason, actor=agent,
                            to_level=to_level)

        if to_level:
            return (step, _counted(ngettext_lazy(
                "Escalated %(count)s case to level %(level)s.",
                "Escalated %(count)s cases to level %(level)s.", "count"), level=to_level))
        return (step, _counted(ngettext_lazy(
            "Escalated %(count)s case to the next level.",
            "Escalated %(count)s cases to the next level.", "count")))
    if action == "merge":
        target = values.get("merge_into")
        if not isinstance(target, int) or not Ticket.objects.filter(pk=target).exists():
            raise BulkRefused(gettext(
                "There is no case %(id)s to merge into. Nothing was changed."
            ) % {"id": target})
        if [pk for pk in ids if pk != target] == []:
            raise BulkRefused(gettext(
                "Tick the cases to merge into case %(id)s, other than case %(id)s itself. "
                "Nothing was changed."
            ) % {"id": target})
        return (lambda pk: merge_cases(pk, target, agent), _counted(ngettext_lazy(
            "Merged %(count)s case into case %(id)s.",
            "Merged %(count)s cases into case %(id)s.", "count"), id=target))
    raise BulkRefused(gettext(
        "“%(value)s” is not a bulk action. Nothing was changed."
    ) % {"value": action})
