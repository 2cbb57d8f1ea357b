"""Job leases: a job whose worker died is put back in the queue, not left RUNNING forever.

django_tasks_db marks a job RUNNING when a worker claims it and SUCCESSFUL or FAILED when
the worker finishes it; nothing else ever looks at a RUNNING job again. A worker killed
mid-job (SIGKILL, out of memory, the machine lost) leaves its job RUNNING for ever.

So every `casedesk worker` keeps a `WorkerHeartbeat` row fresh from a small thread. A job
is held under the lease of the worker that claimed it last (the last of its `worker_ids`):
while that worker's heartbeat is younger than CASEDESK_JOB_LEASE_SECONDS the job is left
alone, however long it runs. Once the heartbeat is older (or gone), any worker's heartbeat
thread puts the job back to READY with a conditional UPDATE on the `started_at` it read,
so of several workers reaping at once exactly one does, and a job re-claimed in between
(a new `started_at`) is not touched. Another worker then claims and runs it again: jobs
are written to be safe to run twice (each claims its own rows: the outbox's SENDING lease,
the inbound queue's lease, the SLA sweep's SKIP LOCKED).

A job that has already been claimed MAX_CLAIMS times without finishing probably kills its
worker (memory, a crash in C code): it is marked FAILED instead of being handed to the
next worker to kill.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.utils import DatabaseError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casedesk.core.models import WorkerHeartbeat

log = logging.getLogger(__name__)

MAX_CLAIMS = 3
# Heartbeat rows of workers gone this long are deleted (they only serve the reaper).
FORGET_AFTER = timedelta(days=1)


class WorkerLost(Exception):  # noqa: N818 - shown as the failed job's exception class
    """Recorded on a job whose worker died MAX_CLAIMS times while running it."""


def lease() -> timedelta:
    return timedelta(seconds=settings.CASEDESK_JOB_LEASE_SECONDS)


def beat(worker_id: str, now: datetime | None = None) -> None:
    """Record that `worker_id` is alive (creating its row on the first beat)."""
    now = now or timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"seen_at": now},
            create_defaults={
                "seen_at": now, "started_at": now, "pid": os.getpid(),
                "hostname": socket.gethostname()[:255],
            },
        )


def forget(worker_id: str) -> None:
    """A worker stopping cleanly removes its row (its jobs are finished by then)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


@dataclass
class Reaped:
    requeued: list[str]
    failed: list[str]


def reap_expired(now: datetime | None = None) -> Reaped:
    """Put back (or fail) every RUNNING job whose worker's lease has run out."""
    now = now or timezone.now()
    expiry = now - lease()
    alive = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=expiry).values_list("worker_id", flat=True)
    )
    reaped = Reaped([], [])
    # A job claimed less than a lease ago is never reaped: its worker beat just before it
    # claimed, so a missing heartbeat row means the job ran under something else (a plain
    # db_worker) that gets one lease of grace too.
    running = DBTaskResult.objects.running().filter(started_at__lt=expiry).only(
        "id", "started_at", "worker_ids", "task_path"
    )
    for job in running:
        holder = job.worker_ids[-1] if job.worker_ids else None
        if holder in alive:
            continue
        # Conditional on what was read: a job another reaper already requeued, or that a
        # worker claimed again since (a new started_at), is left as it is.
        same = DBTaskResult.objects.filter(
            pk=job.pk, status="RUNNING", started_at=job.started_at
        )
        if len(job.worker_ids) >= MAX_CLAIMS:
            changed = same.update(
                status="FAILED", finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=(
                    f"WorkerLost: the worker running this job stopped without finishing it "
                    f"{len(job.worker_ids)} times (workers {', '.join(job.worker_ids)}); "
                    "not tried again.\n"
                ),
            )
            if changed:
                reaped.failed.append(str(job.pk))
                log.error("Job %s (%s) failed: its worker died %d times", job.pk,
                          job.task_path, len(job.worker_ids))
        elif same.update(status="READY"):
            reaped.requeued.append(str(job.pk))
            log.warning("Job %s (%s) requeued: worker %s stopped renewing its lease",
                        job.pk, job.task_path, holder)
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()
    return reaped


class Heartbeat:
    """The worker's lease keeper, in a daemon thread of the worker process.

    It beats every quarter lease, so a beat or two lost to a busy database do not let the
    lease run out, and reaps other workers' expired jobs on the same beat. Database errors
    are logged and retried on the next beat.
    """

    def __init__(self, worker_id: str, every: float | None = None) -> None:
        self.worker_id = worker_id
        self.every = every if every is not None else max(
            0.5, settings.CASEDESK_JOB_LEASE_SECONDS / 4
        )
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="casedesk-heartbeat", daemon=True)

    def start(self) -> None:
        # The first beat is taken before the worker claims anything, in the caller's thread,
        # so no job of this worker is ever RUNNING without a heartbeat row behind it.
        beat(self.worker_id)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)
        try:
            forget(self.worker_id)
        except DatabaseError as error:
            log.warning("Heartbeat: could not remove worker %s: %s", self.worker_id, error)

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                close_old_connections()
                beat(self.worker_id)
                reap_expired()
            except DatabaseError as error:
                log.warning("Heartbeat: %s; retrying", error)
            except Exception:  # noqa: BLE001 - the lease must outlive any one bad beat
                log.exception("Heartbeat failed; retrying")
        connections.close_all()
