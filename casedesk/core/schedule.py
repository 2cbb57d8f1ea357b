"""Every periodic task casedesk runs, declared here and nowhere else.

`casedesk worker` runs `Scheduler` in a small thread: every second it enqueues the tasks
whose time has come, as ordinary jobs that any worker then runs. Each tick is claimed
through a `ScheduledRun` row with a conditional UPDATE (`next_run_at <= now` moved to
`now + every`), in the same transaction as the enqueued job: with several workers polling
at once, exactly one of them enqueues each tick, and a crash between the two leaves
neither. A worker that was down does not catch up on missed ticks: the next tick runs
once, then the interval starts again from then.

A tick whose task still has a job waiting in the queue (READY, not yet started) enqueues
nothing: that job, when it runs, does what the new one would have done (each periodic
task drains everything due). Under load, while the workers were busy with one long drain,
every second added another job of each task (the soak, issue 8.8, counted 78 waiting
inbound drains after a 20-second run); those piled up and ran empty, one after another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.utils import DatabaseError
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from casedesk.core.models import ScheduledRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    # A django_tasks Task, by dotted path (imported when the tick runs).
    task: str
    every: timedelta


def periodic_tasks() -> list[Periodic]:
    """The schedule. Intervals come from settings, read when the worker asks."""
    tasks = [
        Periodic("sla.sweep", "casedesk.sla.jobs.sweep_due_clocks",
                 timedelta(seconds=settings.CASEDESK_SLA_SWEEP_SECONDS)),
        Periodic("mail.deliver", "casedesk.mail.jobs.deliver_due_mail",
                 timedelta(seconds=settings.CASEDESK_MAIL_POLL_SECONDS)),
        Periodic("mail.inbound", "casedesk.mail.inbound_jobs.process_inbound",
                 timedelta(seconds=settings.CASEDESK_MAIL_POLL_SECONDS)),
        Periodic("webhooks.dispatch", "casedesk.webhooks.jobs.dispatch_webhooks",
                 timedelta(seconds=settings.CASEDESK_WEBHOOK_POLL_SECONDS)),
        Periodic("webhooks.prune", "casedesk.webhooks.jobs.prune_deliveries", timedelta(days=1)),
        Periodic("core.prune_jobs", "casedesk.core.jobs.prune_finished_jobs",
                 timedelta(days=1)),
    ]
    if settings.CASEDESK_IMAP_URL:
        tasks.append(Periodic("mail.imap", "casedesk.mail.imap.poll_imap",
                              timedelta(seconds=settings.CASEDESK_IMAP_SECONDS)))
    return tasks


def claim(periodic: Periodic, now: datetime) -> bool:
    """Whether this caller won the tick of `periodic` due at `now` (and moved it on).

    Call inside the transaction that enqueues the task.
    """
    moved = ScheduledRun.objects.filter(name=periodic.name, next_run_at__lte=now).update(
        next_run_at=now + periodic.every, last_run_at=now
    )
    if moved:
        return True
    if ScheduledRun.objects.filter(name=periodic.name).exists():
        return False
    # First tick ever: the row is created already moved on; of two workers creating it at
    # once, the unique name lets one in and the other (savepoint rolled back) loses.
    try:
        with transaction.atomic():
            ScheduledRun.objects.create(
                name=periodic.name, next_run_at=now + periodic.every, last_run_at=now
            )
    except IntegrityError:
        return False
    return True


def tick(now: datetime | None = None, tasks: list[Periodic] | None = None) -> list[str]:
    """Enqueue every periodic task that is due and that this caller wins. Returns their
    names. Each claim and its job commit together."""
    now = now or timezone.now()
    enqueued = []
    for periodic in tasks if tasks is not None else periodic_tasks():
        with transaction.atomic():
            if claim(periodic, now) and not waiting(periodic):
                import_string(periodic.task).enqueue()
                enqueued.append(periodic.name)
    return enqueued


def waiting(periodic: Periodic) -> bool:
    """Whether a job of this task is already in the queue, not yet started. Read after the
    tick's claim: only the tick's winner gets here, so two ticks cannot both skip."""
    return DBTaskResult.objects.filter(
        task_path=periodic.task, status=TaskResultStatus.READY
    ).exists()


class Scheduler:
    """The worker's scheduling loop, in a daemon thread of the worker process.

    It only enqueues: the jobs run in the worker's own loop (or any other worker's). It
    skips its UPDATE until the soonest next_run_at it knows of has come, so an idle
    install does not take SQLite's write lock every second. A database error (SQLite busy,
    PostgreSQL restarting) is logged and retried on the next poll.
    """

    def __init__(self, poll_seconds: float = 1.0,
                 tasks: Callable[[], list[Periodic]] = periodic_tasks) -> None:
        self.poll_seconds = poll_seconds
        self.tasks = tasks
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="casedesk-scheduler", daemon=True)
        self.not_before: datetime | None = None

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def poll(self) -> list[str]:
        now = timezone.now()
        if self.not_before is not None and now < self.not_before:
            return []
        tasks = self.tasks()
        enqueued = tick(now, tasks)
        names = [p.name for p in tasks]
        soonest = ScheduledRun.objects.filter(name__in=names).order_by("next_run_at").first()
        known = ScheduledRun.objects.filter(name__in=names).count() == len(names)
        self.not_before = soonest.next_run_at if soonest is not None and known else None
        return enqueued

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                for name in self.poll():
                    log.debug("Enqueued periodic task %s", name)
            except DatabaseError as error:
                log.warning("Scheduler: %s; retrying", error)
                self.not_before = None
            except Exception:  # noqa: BLE001 - the loop must outlive any one bad tick
                log.exception("Scheduler tick failed; retrying")
                self.not_before = None
            self.stopped.wait(self.poll_seconds)
        # This thread's own connections (Django's are per thread): closed, not left to the
        # server to time out.
        connections.close_all()
