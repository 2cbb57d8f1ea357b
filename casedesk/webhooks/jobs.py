"""The webhook jobs the worker runs: the periodic dispatch (casedesk.core.schedule) and
an admin's replay. They have a queue of their own ("webhooks"), so a slow receiver never
holds up mail or the SLA sweep in a worker that runs one job at a time."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_tasks import task

from casedesk.webhooks import delivery, fanout


def dispatch() -> dict[str, Any]:
    """New events into deliveries, then send what is due."""
    made = fanout.drain()
    sent = delivery.deliver_due()
    return {"fan_out": asdict(made), "sent": sent}


@task(queue_name="webhooks")
def dispatch_webhooks() -> dict[str, Any]:
    return dispatch()


@task(queue_name="webhooks")
def replay_delivery(delivery_id: str) -> dict[str, Any]:
    outcome = delivery.replay(delivery_id)
    if outcome is None:
        return {"replayed": False}
    return {"replayed": True, "status_code": outcome.status_code, "error": outcome.error}


@task(queue_name="webhooks")
def prune_deliveries() -> int:
    """Daily: finished deliveries older than CASEDESK_WEBHOOK_KEEP_DAYS go."""
    return delivery.prune()
