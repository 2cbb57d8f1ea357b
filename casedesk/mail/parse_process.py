"""Inbound mail parsed in a process of its own while the worker stores the previous chunk
(casedesk.mail.inbound_jobs.process_due): parsing is pure CPU with no database, about a
sixth of what a message costs, and a worker storing mail uses one core.

One child process per worker process, started on first use and reused until the worker
exits. It is spawned, never forked: a forked child would inherit the worker's SQLite or
PostgreSQL connection, which SQLite forbids using across fork, and a child closing it could
checkpoint or delete the WAL. The child loads the parser and the settings it reads, and no
database settings at all, so it cannot open a connection. When the child cannot start or
dies, the worker parses in its own process, as it does with CASEDESK_INBOUND_PARSE_PROCESS
off: slower, never different.

Only the standard library and django.conf are imported here at module level: the queue
(casedesk.mail.inbound_jobs) imports this module, the listener imports the queue, and the
child imports it without Django's app registry.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# The settings casedesk.mail.parse reads, sent with every chunk: the child has no settings
# module of its own (and a test's override reaches it).
PARSE_SETTINGS = ("CASEDESK_MAX_ATTACHMENTS",)
# A child that died this many times in one worker (killed by the kernel for memory, say)
# is not started again: the worker parses in its own process until it exits.
MAX_RESTARTS = 3

# What a chunk is parsed with, sent to the child by reference (a module-level function
# the child can import without Django's app registry); None: casedesk.mail.parse's
# parse_message. Tests set a parser that fails on marked messages.
parser: Callable[[bytes], Any] | None = None


@dataclass(frozen=True)
class ParseFailure:
    """parse_message raised (it does not; MemoryError may): the message is quarantined
    with this error, written where it was raised."""

    summary: str
    error: str


def describe(exc: BaseException) -> str:
    """The error as an admin reads it: the exception, then where it was raised."""
    where = "".join(traceback.format_exception(exc)[-6:])
    return f"{type(exc).__name__}: {exc}\n\n{where}"[:10000]


def parse_each(raws: list[bytes], parse: Callable[[bytes], Any] | None = None,
               ) -> list[Any]:
    """Each message parsed (a ParsedMail), or the ParseFailure of one that raised: in the
    worker, or in the child (parse_chunk). `parse`: `parser`, else parse_message."""
    parse = parse or parser
    if parse is None:
        # Imported here: parsing is a module of its own that the queue (and the listener,
        # which imports the queue's model) must not need to load.
        from casedesk.mail.parse import parse_message

        parse = parse_message
    out: list[Any] = []
    for raw in raws:
        try:
            out.append(parse(raw))
        except Exception as exc:  # noqa: BLE001 - quarantined by the worker, never lost
            out.append(ParseFailure(f"{type(exc).__name__}: {exc}"[:300], describe(exc)))
    return out


# ---------------------------------------------------------------- in the child


def _child_start() -> None:
    """The child's initializer: settings without a settings module (no DATABASES: no
    connection can be opened), and an exit when the worker is gone, so that a worker
    killed outright leaves no child behind (its pipe stays open in the child). Ctrl-C in a
    terminal reaches the whole process group: the worker stops, and stops the child."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not settings.configured:
        settings.configure()
    parent = multiprocessing.parent_process()
    if parent is not None:
        def orphaned() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(0)

        threading.Thread(target=orphaned, daemon=True).start()


def parse_chunk(raws: list[bytes], values: dict[str, Any],
                parse: Callable[[bytes], Any] | None) -> list[Any]:
    """In the child: the worker's settings for the parser, then parse_each."""
    for name, value in values.items():
        setattr(settings, name, value)
    return parse_each(raws, parse)


# ---------------------------------------------------------------- in the worker

_executor: ProcessPoolExecutor | None = None
_child_pid: Future[int] | None = None
_restarts = 0
_given_up = False
_lock = threading.Lock()


def wanted() -> bool:
    """Parse in the child: the setting is on and the child has not been given up."""
    return bool(settings.CASEDESK_INBOUND_PARSE_PROCESS) and not _given_up


def _start() -> ProcessPoolExecutor:
    global _executor, _child_pid
    if _executor is None:
        _executor = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_start,
        )
        # The first submit starts the child, now, while the worker parses the batch's
        # first chunk. Spawn runs the worker's main script again in the child, as
        # __mp_main__, unless it is a package's __main__: a script without an
        # `if __name__ == "__main__"` guard would run (and open a database connection)
        # there. Without a main module for the moment, the child imports only what it
        # unpickles: this module and the parser.
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            _child_pid = _executor.submit(os.getpid)
        finally:
            sys.modules["__main__"] = main
    return _executor


@dataclass(frozen=True)
class Job:
    """A chunk being parsed in the child, and which child (a lost one is replaced)."""

    raws: list[bytes]
    future: Future[list[Any]]
    executor: ProcessPoolExecutor


def submit(raws: list[bytes]) -> Job | None:
    """Start parsing `raws` in the child; None when they must be parsed here (the setting
    is off, or the child cannot start)."""
    if not wanted():
        return None
    with _lock:
        try:
            executor = _start()
        except Exception as exc:  # noqa: BLE001 - no child here (no semaphores, say)
            _give_up(f"cannot start ({type(exc).__name__}: {exc})")
            return None
        try:
            return Job(raws, executor.submit(parse_chunk, raws, _values(), parser), executor)
        except Exception as exc:  # noqa: BLE001 - BrokenProcessPool: the child died
            _lost(exc, executor)
    return None


def result(job: Job) -> list[Any]:
    """What the child parsed; parsed here instead when the child died or failed."""
    try:
        return job.future.result()
    except Exception as exc:  # noqa: BLE001 - BrokenProcessPool, or the result did not pickle
        with _lock:
            _lost(exc, job.executor)
        return parse_each(job.raws)


def _values() -> dict[str, Any]:
    return {name: getattr(settings, name) for name in PARSE_SETTINGS}


def _lost(exc: BaseException, executor: ProcessPoolExecutor) -> None:
    """The child died or failed: parse here for this chunk; the next chunk starts a new
    child, until MAX_RESTARTS."""
    global _restarts
    if executor is not _executor:
        return  # an earlier chunk found it lost, and it was replaced
    if _child_pid is not None and _child_pid.done() and _child_pid.exception() is not None:
        _give_up(f"cannot start ({type(exc).__name__}: {exc})")
        return
    _restarts += 1
    if _restarts >= MAX_RESTARTS:
        _give_up(f"lost {_restarts} times, the last: {type(exc).__name__}: {exc}")
        return
    log.warning("Inbound parse process lost (%s: %s); parsing in the worker for this chunk",
                type(exc).__name__, exc)
    _stop()


def _give_up(why: str) -> None:
    global _given_up
    _given_up = True
    log.warning("Inbound parse process %s; parsing in the worker from now on", why)
    _stop()


def _stop() -> None:
    global _executor, _child_pid
    executor, _executor, _child_pid = _executor, None, None
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


def child_pid(timeout: float = 60) -> int | None:
    """The running child's process id (for the benchmark's CPU and memory figures, and
    tests); None when there is none."""
    pending = _child_pid
    if pending is None:
        return None
    try:
        return pending.result(timeout=timeout)
    except Exception:  # noqa: BLE001 - the child is gone
        return None


def shutdown() -> None:
    """Stop the child and wait for it (at the worker's exit; the benchmark reads the
    child's CPU time after it)."""
    with _lock:
        _stop()


def reset() -> None:
    """Forget a child given up on (tests)."""
    global _restarts, _given_up
    with _lock:
        _stop()
        _restarts, _given_up = 0, False
