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

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.escalation.actions import EscalationRefused, escalate
from casedesk.escalation.models import Escalation
from casedesk.tickets import actions as ticket_actions
from casedesk.tickets.actions import ActionError, assign, change_priority, change_status
from casedesk.tickets.models import Ticket


class BulkRefused(Exception):
    """Nothing was changed; the message says why, naming the case when one was refused."""


def merge_available() -> bool:
    """Whether cases can be merged (casedesk.tickets.actions.merge_cases exists)."""
    return callable(getattr(ticket_actions, "merge_cases", None))


def plural(count: int) -> str:
    return f"{count} case{'s' if count != 1 else ''}"


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
        raise BulkRefused("Only agents can change cases in bulk.")
    ids = sorted(set(case_ids))
    if not ids:
        raise BulkRefused("Tick at least one case first.")
    existing = set(Ticket.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [pk for pk in ids if pk not in existing]
    if missing:
        raise BulkRefused(
            f"There is no case {missing[0]}"
            f"{f' (nor {plural(len(missing) - 1)} more)' if len(missing) > 1 else ''}. "
            "Nothing was changed."
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
                    raise BulkRefused(
                        f"Case {pk}: {exc} Nothing was changed, on any of the "
                        f"{plural(len(targets))}."
                    ) from None
                if isinstance(outcome, Escalation) and outcome.nobody_on_shift:
                    warnings.append(str(pk))
    notes: tuple[str, ...] = ()
    if warnings:
        notes = (f"Nobody of the level's team is on shift: case{'s' if len(warnings) > 1 else ''} "
                 f"{', '.join(warnings)} wait unassigned and the level's contacts were alerted.",)
    return BulkDone(len(targets), summary.format(count=plural(len(targets))), notes)


Step = Callable[[int], Any]


def _plan(agent: User, ids: list[int], action: str,
          values: dict[str, Any]) -> tuple[Step, str]:
    """The function applied to each case, and the sentence that reports it."""
    if action == "assign":
        assignee: User | None = values.get("assignee")
        who = assignee.get_full_name() if assignee else None
        return (lambda pk: assign(pk, agent, assignee),
                f"Assigned {{count}} to {who}." if who else "Unassigned {count}.")
    if action == "status":
        status = str(values.get("status"))
        if status not in Ticket.Status.values:
            raise BulkRefused(f"“{status}” is not a status. Nothing was changed.")
        label = Ticket.Status(status).label
        return (lambda pk: change_status(pk, agent, status), f"Set {{count}} to {label}.")
    if action == "priority":
        priority = values.get("priority")
        if priority not in Priority.values:
            raise BulkRefused(f"“{priority}” is not a priority. Nothing was changed.")
        label = Priority(priority).label
        return (lambda pk: change_priority(pk, agent, int(priority)),
                f"Set {{count}} to priority {label}.")
    if action == "escalate":
        reason = str(values.get("reason") or "").strip()
        to_level = values.get("to_level")
        where = f"level {to_level}" if to_level else "the next level"
        return (lambda pk: escalate(pk, source=Escalation.Source.AGENT, reason=reason,
                                    actor=agent, to_level=to_level),
                f"Escalated {{count}} to {where}.")
    if action == "merge":
        merge = getattr(ticket_actions, "merge_cases", None)
        if merge is None:
            raise BulkRefused("Merging cases is not available. Nothing was changed.")
        target = values.get("merge_into")
        if not isinstance(target, int) or not Ticket.objects.filter(pk=target).exists():
            raise BulkRefused(f"There is no case {target} to merge into. Nothing was changed.")
        if [pk for pk in ids if pk != target] == []:
            raise BulkRefused(
                f"Tick the cases to merge into case {target}, other than case {target} "
                "itself. Nothing was changed."
            )
        return (lambda pk: merge(pk, target, agent), f"Merged {{count}} into case {target}.")
    raise BulkRefused(f"“{action}” is not a bulk action. Nothing was changed.")
