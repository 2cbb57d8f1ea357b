"""The real background worker (`casedesk worker`, django_tasks_db's db_worker) runs the
periodic delivery job, which sends what the outbox holds."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from casedesk.conftest import make_case, make_contact, make_org, read_outbox
from casedesk.core.models import ScheduledRun
from casedesk.core.schedule import periodic_tasks, tick
from casedesk.mail.models import OutboundMail
from casedesk.mail.tests.conftest import free_port


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    # The worker installs its own Ctrl-C handlers; give pytest its own back afterwards.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def delivery_jobs() -> Any:
    return DBTaskResult.objects.filter(task_path="casedesk.mail.jobs.deliver_due_mail")


def run_worker_once() -> None:
    """One scheduler tick (as the worker's scheduler thread does), then the worker runs
    everything that is ready and exits."""
    tick(tasks=[p for p in periodic_tasks() if p.name == "mail.deliver"])
    call_command("worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_delivers_the_mail_a_new_case_enqueued(
    settings: Any, keep_signal_handlers: None
) -> None:
    # Given a new requester's case, committed: its acknowledgement and invitation wait in
    # the outbox, and no job was enqueued for them
    ticket = make_case(email="first.time@example.org").ticket
    assert OutboundMail.objects.filter(status="queued").count() == 2
    assert not delivery_jobs().exists()

    # When the scheduler ticks and the worker runs through everything that is due
    run_worker_once()

    # Then both mails are sent by one delivery job
    assert set(OutboundMail.objects.values_list("status", flat=True)) == {"sent"}
    subjects = sorted(m["Subject"] for m in read_outbox(settings))
    assert subjects == [
        "Your invitation to the support portal",
        f"[Case #{ticket.pk}] {ticket.subject}",
    ]
    [job] = delivery_jobs()
    assert job.status == "SUCCESSFUL"
    assert job.return_value["sent"] == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_delivery_in_the_worker_waits_for_its_retry_instead_of_spinning(
    settings: Any, keep_signal_handlers: None
) -> None:
    # Given a known contact's case while the mail server is down
    settings.CASEDESK_EMAIL_URL = f"smtp://127.0.0.1:{free_port()}?timeout=5"
    ticket = make_case(make_contact(make_org())).ticket

    # When the worker runs through everything that is due
    run_worker_once()

    # Then the one attempt was made, the job itself succeeded (the failure is the mail's,
    # kept on it), and the retry waits for its time instead of running again at once
    mail = OutboundMail.objects.get(ticket=ticket)
    assert (mail.status, mail.attempts) == ("queued", 1)
    [job] = delivery_jobs()
    assert (job.status, job.return_value["queued"]) == ("SUCCESSFUL", 1)
    ScheduledRun.objects.update(next_run_at=timezone.now())
    run_worker_once()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("queued", 1)
