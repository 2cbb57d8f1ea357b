"""Housekeeping jobs for the background worker, run from casedesk.core.schedule."""

from __future__ import annotations

from django.core.management import call_command
from django_tasks import task

# Finished jobs are only a log once done (the mail outbox, the SLA events and the
# escalations keep what matters); failed ones are kept longer for an admin to look at.
KEEP_SUCCESSFUL_DAYS = 2
KEEP_FAILED_DAYS = 14


@task(queue_name="default")
def prune_finished_jobs() -> None:
    """Delete old finished job rows: the periodic jobs add tens of thousands a day."""
    call_command(
        "prune_db_task_results", queue_name="*", min_age_days=KEEP_SUCCESSFUL_DAYS,
        failed_min_age_days=KEEP_FAILED_DAYS, verbosity=0,
    )
