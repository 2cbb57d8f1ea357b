"""Job leases: a job whose worker dies mid-job is run again by another worker, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casedesk.core.lease import MAX_CLAIMS, beat, reap_expired
from casedesk.core.models import WorkerHeartbeat
from casedesk.core.tests.holding_jobs import hold

# A worker process on the test database (the database NAME is the test one; the rest of
# the connection settings come from the same environment as the test run's).
WORKER = textwrap.dedent(
    """
    import os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "casedesk.settings"
    from django.conf import settings
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    import django
    django.setup()
    from django.core.management import call_command
    call_command("worker", *sys.argv[2:])
    """
)


def claimed_by(job: DBTaskResult, worker_id: str, started: Any) -> None:
    DBTaskResult.objects.filter(pk=job.pk).update(
        status="RUNNING", started_at=started, worker_ids=[*job.worker_ids, worker_id]
    )


@pytest.fixture
def job(db: Any, tmp_path: Path) -> DBTaskResult:
    result = hold.enqueue(str(tmp_path))
    return DBTaskResult.objects.get(pk=result.id)


def test_a_job_whose_worker_still_beats_is_left_running(job: DBTaskResult) -> None:
    # Given a job claimed by a worker an hour ago, whose heartbeat is fresh
    claimed_by(job, "alive", timezone.now() - timedelta(hours=1))
    beat("alive")

    # When another worker reaps
    reaped = reap_expired()

    # Then the long job is left to its worker
    assert reaped.requeued == [] and reaped.failed == []
    job.refresh_from_db()
    assert job.status == "RUNNING"


def test_a_job_whose_worker_went_silent_goes_back_to_the_queue_once(
    job: DBTaskResult, settings: Any
) -> None:
    # Given a job claimed by a worker that last beat two leases ago
    settings.CASEDESK_JOB_LEASE_SECONDS = 60
    then = timezone.now() - timedelta(minutes=2)
    claimed_by(job, "dead", then)
    beat("dead", now=then)

    # When two workers reap, one after the other
    first, second = reap_expired(), reap_expired()

    # Then the first puts the job back, the second finds nothing to do
    assert first.requeued == [str(job.pk)]
    assert second.requeued == []
    job.refresh_from_db()
    assert job.status == "READY"
    assert list(DBTaskResult.objects.ready().values_list("pk", flat=True)) == [job.pk]


def test_a_job_claimed_again_since_the_read_is_not_touched(job: DBTaskResult) -> None:
    # Given a job of a dead worker, just claimed again by a live one
    claimed_by(job, "dead", timezone.now() - timedelta(hours=1))
    job.refresh_from_db()
    claimed_by(job, "new", timezone.now())
    beat("new")

    # Then reaping leaves it with the new worker
    assert reap_expired().requeued == []
    job.refresh_from_db()
    assert job.status == "RUNNING" and job.worker_ids == ["dead", "new"]


def test_a_job_that_killed_its_worker_every_time_fails_with_a_reason(
    job: DBTaskResult,
) -> None:
    # Given a job whose workers died MAX_CLAIMS times while running it
    DBTaskResult.objects.filter(pk=job.pk).update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=1),
        worker_ids=[f"w{n}" for n in range(MAX_CLAIMS)],
    )

    # When a worker reaps
    reaped = reap_expired()

    # Then the job failed, saying why, instead of killing a fourth worker
    assert reaped.failed == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == "FAILED"
    assert job.exception_class_path == "casedesk.core.lease.WorkerLost"
    assert "stopped without finishing it 3 times" in job.traceback


def test_heartbeats_of_long_gone_workers_are_forgotten(db: Any) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        beat("gone")
    beat("here")
    reap_expired()
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["here"]


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def start_worker(worker_id: str, log: Path, *options: str,
                 **env_vars: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CASEDESK_JOB_LEASE_SECONDS": "2", "PYTHONUNBUFFERED": "1", **env_vars}
    database = str(connection.settings_dict["NAME"])
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, database, "--no-startup-delay", "--interval", "0.1",
         "--worker-id", worker_id, *(options or ("--queue-name", "default", "--no-scheduler"))],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def wait_for(condition: Any, what: str, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen; worker log:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_job_leaves_the_job_to_another_which_completes_it_once(
    tmp_path: Path, workers: list[subprocess.Popen[bytes]]
) -> None:
    # Given a job that holds until told to finish, and a worker running it
    (tmp_path / "hold").touch()
    log = tmp_path / "workers.log"
    job_id = hold.enqueue(str(tmp_path)).id
    workers.append(first := start_worker("first", log))
    wait_for(lambda: list(tmp_path.glob("started-*")), "the first worker starting the job", log)
    assert DBTaskResult.objects.get(pk=job_id).status == "RUNNING"

    # When that worker is killed outright mid-job, and another worker starts
    first.send_signal(signal.SIGKILL)
    first.wait()
    (tmp_path / "hold").unlink()
    workers.append(second := start_worker("second", log))

    # Then once the first worker's lease runs out, the second runs the job to the end
    wait_for(lambda: DBTaskResult.objects.get(pk=job_id).status == "SUCCESSFUL",
             "the job completing", log)
    job = DBTaskResult.objects.get(pk=job_id)
    assert [w.split("-")[0] for w in job.worker_ids] == ["first", "second"]
    # And its effect happened exactly once, in the second worker
    assert (tmp_path / "effects").read_text().split() == [str(second.pid)]
    assert len(list(tmp_path.glob("started-*"))) == 2
    # And the second worker, stopped cleanly, removes its heartbeat; the dead one's stays
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0, log.read_text()
    assert [w.split("-")[0] for w in WorkerHeartbeat.objects.values_list("worker_id", flat=True)
            ] == ["first"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_scheduling_at_once_enqueue_each_sweep_slot_once(
    tmp_path: Path, workers: list[subprocess.Popen[bytes]]
) -> None:
    # Given two workers, each with its scheduler, sweeping the SLA clocks every second
    log = tmp_path / "workers.log"
    for name in ("one", "two"):
        workers.append(start_worker(name, log, "--queue-name", "default,mail",
                                    CASEDESK_SLA_SWEEP_SECONDS="1"))
    sweeps = DBTaskResult.objects.filter(task_path="casedesk.sla.jobs.sweep_due_clocks")

    # When they have run side by side for six sweep slots
    wait_for(lambda: sweeps.filter(status="SUCCESSFUL").count() >= 6, "six sweeps", log)
    for process in workers:
        process.send_signal(signal.SIGTERM)
    for process in workers:
        assert process.wait(timeout=30) == 0, log.read_text()

    # Then no slot was swept twice: consecutive sweeps are a whole interval apart (two
    # workers winning one slot would enqueue two sweeps within milliseconds). The margin
    # allows for the insert of one tick's job being delayed on a loaded machine (the tick
    # reads whether a sweep already waits between its claim and the insert).
    times = sorted(sweeps.values_list("enqueued_at", flat=True))
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) > 0.5, gaps
    # And every job of the queues they ran finished (the schedule also fills queues, such
    # as webhooks, that these two workers were not asked to run)
    ran = DBTaskResult.objects.filter(queue_name__in=["default", "mail"])
    assert not ran.exclude(status="SUCCESSFUL").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_restarted_under_the_same_id_still_hands_the_dead_ones_job_on(
    tmp_path: Path, workers: list[subprocess.Popen[bytes]]
) -> None:
    # Given a worker named host-1 (as systemd's casedesk-worker@1 names it), killed mid-job
    (tmp_path / "hold").touch()
    log = tmp_path / "workers.log"
    job_id = hold.enqueue(str(tmp_path)).id
    workers.append(first := start_worker("host-1", log))
    wait_for(lambda: list(tmp_path.glob("started-*")), "the worker starting the job", log)
    first.send_signal(signal.SIGKILL)
    first.wait()
    (tmp_path / "hold").unlink()

    # When it is restarted under the same name
    workers.append(start_worker("host-1", log))

    # Then the restarted worker does not pass for the dead one: the job is run again
    wait_for(lambda: DBTaskResult.objects.get(pk=job_id).status == "SUCCESSFUL",
             "the job completing", log)
    ids = DBTaskResult.objects.get(pk=job_id).worker_ids
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(w.startswith("host-1-") for w in ids)
