"""What a drain process costs, read from /proc and getrusage: CPU seconds (its own, its
children's, such as the inbound parse process, and its PostgreSQL backend's) and resident
memory split into what Python holds, SQLite's page cache and file-backed pages
(bench.inbound's processing figures)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
from pathlib import Path
from typing import Any


def rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def sqlite_heap_mb() -> float | None:
    """SQLite's own allocations in this process (sqlite3_memory_used): mostly its page
    cache, which fills up to the connection's cache_size (64 MB in casedesk's settings)
    as the database grows, then stays. None when the library cannot be asked."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        return round(lib.sqlite3_memory_used() / 1024 / 1024, 1)
    except (OSError, AttributeError):
        return None


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """A process's resident memory in MB (VmRSS, its peak VmHWM, RssAnon, RssFile), from
    /proc."""
    found: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return found


def child_processes() -> dict[int, str]:
    """This process's child processes (the inbound parse process, casedesk.mail.
    parse_process, and multiprocessing's resource tracker) by pid: what each runs."""
    me, found = str(os.getpid()), {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rpartition(")")[2].split()[1] != me:
                continue
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        found[int(stat.parent.name)] = ("resource tracker" if "resource_tracker" in cmdline
                                        else "parse process" if "multiprocessing" in cmdline
                                        else cmdline[:60])
    return found


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process on this machine has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_memory() -> dict[str, Any]:
    """Resident memory now, split: what Python holds (anonymous memory minus SQLite's
    heap: the figure that must not grow with the number of messages), SQLite's page cache
    (bounded by cache_size), and file-backed pages (on SQLite, the database its mmap has
    touched, which grow with the file, not with the heap); and each child process's
    (the parse process), which the worker's memory does not include."""
    found = proc_status()
    anon, sqlite = found.get("RssAnon"), sqlite_heap_mb()
    python = round(anon - (sqlite or 0), 1) if anon is not None else None
    children: list[dict[str, Any]] = [
        {"pid": pid, "what": what, "rss_mb": status.get("VmRSS"),
         "anon_mb": status.get("RssAnon"), "peak_mb": status.get("VmHWM")}
        for pid, what in sorted(child_processes().items()) if (status := proc_status(pid))
    ]
    return {"python_mb": python, "sqlite_cache_mb": sqlite, "anon_mb": anon,
            "file_mb": found.get("RssFile"), "children": children,
            "children_rss_mb": round(sum(c["rss_mb"] or 0.0 for c in children), 1)}


def memory_text(memory: dict[str, Any] | None) -> str:
    if not memory:
        return "-"
    text = (f"{memory.get('python_mb')} MB Python + {memory.get('sqlite_cache_mb')} MB "
            f"SQLite cache (anonymous), {memory.get('file_mb')} MB file-backed")
    for child in memory.get("children") or []:
        text += (f"; + {child['what']} {child['rss_mb']} MB resident "
                 f"({child['anon_mb']} MB anonymous, peak {child.get('peak_mb')} MB)")
    return text


def server_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backend serving this
    process's connection (same machine, read from /proc); 0 when there is none (SQLite,
    which runs inside this process and is counted in its own CPU time)."""
    return 0.0 if pid is None else cpu_s(pid)


def children_cpu_s() -> float:
    """CPU seconds of this process's children: those ended and waited for (a parse process
    shut down or replaced), and those still running (multiprocessing's resource tracker)."""
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ended.ru_utime + ended.ru_stime + sum(cpu_s(pid) for pid in child_processes())


def backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def cpu_figures(done: int, client_s: float, server_s: float,
                parse_s: float = 0.0) -> dict[str, Any]:
    """CPU per message of every process involved (this one with its parse process, whose
    CPU `client_s` includes and `parse_s` is, and its PostgreSQL backend), and the rate
    one core would reach at that cost: unlike wall time, barely moved by the other
    programs sharing the machine."""
    total = client_s + server_s
    per_message = total * 1000 / done if done else None
    return {"cpu_s": round(client_s, 2), "server_cpu_s": round(server_s, 2),
            "parse_process_cpu_s": round(parse_s, 2),
            "cpu_ms_per_message": round(client_s * 1000 / done, 2) if done else None,
            "total_cpu_ms_per_message": round(per_message, 2) if per_message else None,
            "one_core_per_s": round(1000 / per_message, 1) if per_message else None}
