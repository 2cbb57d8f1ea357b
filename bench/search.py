"""Search timings on a seeded database (issue 5, point 3), apart from the full benchmark.

    python -m bench.search --db sqlite --cases 50000
    python -m bench.search --db postgres --cases 50000

A fresh database (a temporary data directory, or a PostgreSQL database casedesk_searchbench
that is dropped at the end), migrated and filled by bench.seed (two messages per case),
then: the time `casedesk.search.index.rebuild()` takes, three cases given a reply with a
rare word through the real action, and for each search the p50 and p99 of `find_cases` (the
desk's whole page: the ranking, the page's cases, their snippets) over --runs runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SEARCHES = {
    "rare word": "kangaroo",
    "common word": "subscribers",
    "two common words": "cairo cluster",
    "prefix as typed": "subscr",
    "phrase": '"restarting the service"',
    "name": "haddad",
}


def run(db: str, cases: int, runs: int) -> dict[str, object]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="casedesk.settings")
    data = tempfile.mkdtemp(prefix="casedesk-searchbench-")
    env["CASEDESK_DATA_DIR"] = data
    url = "postgres://postgres@127.0.0.1:5432/casedesk_searchbench"
    if db == "postgres":
        env["CASEDESK_DATABASE_URL"] = url
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                        "casedesk_searchbench"], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres",
                        "casedesk_searchbench"], check=True)
    python = sys.executable
    subprocess.run([python, "-m", "casedesk.cli", "migrate", "-v0"], env=env, check=True)
    subprocess.run([python, "-m", "bench.seed", "--cases", str(cases)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from casedesk.accounts.models import User
    from casedesk.search import index
    from casedesk.search.cases import find_cases
    from casedesk.search.query import parse
    from casedesk.tickets.actions import add_message
    from casedesk.tickets.models import Message, Ticket

    started = time.perf_counter()
    index.rebuild()
    rebuild_s = time.perf_counter() - started
    agent = User.objects.filter(role=User.Role.AGENT).first()
    assert agent is not None
    for pk in Ticket.objects.order_by("?").values_list("pk", flat=True)[:3]:
        add_message(pk, agent, "A kangaroo in the logs: see the attached trace.", [])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings: dict[str, dict[str, float | int]] = {}
    for label, text in SEARCHES.items():
        query = parse(text)
        found = find_cases(query)  # warm the caches
        samples = []
        for _ in range(runs):
            began = time.perf_counter()
            find_cases(query)
            samples.append((time.perf_counter() - began) * 1000)
        samples.sort()
        timings[label] = {
            "query": text, "matched": found.results.matched, "more": found.results.more,
            "p50_ms": round(statistics.median(samples), 1),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 1),
        }
    result = {
        "db": db, "cases": Ticket.objects.count(), "messages": Message.objects.count(),
        "rebuild_s": round(rebuild_s, 1), "searches": timings,
    }
    connection.close()
    shutil.rmtree(data, ignore_errors=True)
    if db == "postgres":
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                        "casedesk_searchbench"], check=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps(run(args.db, args.cases, args.runs), indent=2))


if __name__ == "__main__":
    main()
