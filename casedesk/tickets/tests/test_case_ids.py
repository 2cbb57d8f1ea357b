"""Case IDs: numbers only, unique, contiguous, never reused, from a configurable start, and
safe when many submitters arrive at once (threads and separate processes, each with its own
database connection, on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from casedesk.conftest import make_case
from casedesk.core.choices import Priority
from casedesk.tickets.actions import submit_case
from casedesk.tickets.models import Ticket

SUBMITTERS = 8
CASES_EACH = 40  # 320 cases in all

# The same brand-new address opens each submitter's first case: eight first submissions
# from one person at once (a double-click, a retrying client) must make one contact.
SHARED_EMAIL = "first.time@newpartner.example"


def submitter_email(index: int, n: int) -> str:
    return SHARED_EMAIL if n == 0 else f"submitter{index}@newpartner.example"


def submit(index: int, n: int) -> int:
    submission = submit_case(
        email=submitter_email(index, n),
        full_name=f"Submitter {index}",
        subject=f"Case {n} from submitter {index}",
        description="Filtering stopped for part of our subscribers.",
        priority=Priority.MEDIUM,
        category=None,
        files=[],
    )
    return submission.ticket.pk


def assert_contiguous_and_stored(ids: list[int], start: int) -> None:
    total = SUBMITTERS * CASES_EACH
    assert len(ids) == total
    assert len(set(ids)) == total, "a Case ID was handed out twice"
    assert sorted(ids) == list(range(start, start + total))
    assert Ticket.objects.count() == total
    assert sorted(Ticket.objects.values_list("pk", flat=True)) == sorted(ids)
    assert Ticket.objects.filter(requester__email=SHARED_EMAIL).count() == SUBMITTERS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_threads_submitting_at_once_get_unique_contiguous_case_ids(settings: Any) -> None:
    # Given eight submitters, each a thread with its own database connection
    start = settings.CASEDESK_CASE_ID_START
    barrier = threading.Barrier(SUBMITTERS)
    ids: list[int] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(CASES_EACH):
                ids.append(submit(index, n))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(SUBMITTERS)]

    # When they all submit at the same moment
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then no submission failed and the Case IDs are exactly start, start+1, ...
    assert errors == []
    assert_contiguous_and_stored(ids, start)


# Each child process sets Django up on the test database, says "ready", waits for the go
# file (so that all eight start together), submits its cases and prints their IDs.
CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    os.environ["DJANGO_SETTINGS_MODULE"] = "casedesk.settings"
    from django.conf import settings
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    import django
    django.setup()
    from casedesk.tickets.tests.test_case_ids import submit
    index, count, go = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    print(json.dumps([submit(index, n) for n in range(count)]), flush=True)
    """
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_processes_submitting_at_once_get_unique_contiguous_case_ids(
    settings: Any, tmp_path: Path
) -> None:
    # Given eight submitter processes connected to the test database, waiting for a signal
    start = settings.CASEDESK_CASE_ID_START
    go = tmp_path / "go"
    database = str(connection.settings_dict["NAME"])
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, database, str(i), str(CASES_EACH), str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(SUBMITTERS)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready", child.stderr.read()  # type: ignore[union-attr]

        # When they all submit at once
        go.touch()
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()

    # Then every process succeeded and the Case IDs are exactly start, start+1, ...
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    ids = [case_id for out, _ in outputs for case_id in json.loads(out)]
    assert_contiguous_and_stored(ids, start)


def test_a_deleted_case_id_is_never_handed_out_again(db: Any) -> None:
    # Given three cases, of which the newest two are deleted
    cases = [make_case().ticket for _ in range(3)]
    Ticket.objects.filter(pk__in=[cases[1].pk, cases[2].pk]).delete()

    # When the next case is submitted
    following = make_case().ticket

    # Then it gets a new number, after every number handed out before
    assert following.pk == cases[2].pk + 1
    assert list(Ticket.objects.values_list("pk", flat=True).order_by("pk")) == [
        cases[0].pk, following.pk,
    ]


def test_case_ids_start_at_the_configured_number(db: Any, settings: Any) -> None:
    # Given an installation configured to start at 500000
    settings.CASEDESK_CASE_ID_START = 500000

    # When the first cases are submitted
    first, second = make_case().ticket, make_case().ticket

    # Then they are 500000 and 500001
    assert (first.pk, second.pk) == (500000, 500001)


def test_raising_the_start_jumps_forward_and_lowering_it_never_goes_back(
    db: Any, settings: Any
) -> None:
    # Given cases numbered from the configured start
    original = settings.CASEDESK_CASE_ID_START
    assert make_case().ticket.pk == original

    # When an admin raises the start, then lowers it again
    settings.CASEDESK_CASE_ID_START = original + 400000
    raised = make_case().ticket
    settings.CASEDESK_CASE_ID_START = original
    lowered = make_case().ticket

    # Then numbering jumps to the new start, and never back to numbers below it
    assert (raised.pk, lowered.pk) == (original + 400000, original + 400001)
