"""`casedesk bench-seed`: a realistic desk of any size, written at bulk-load speed.

What it writes (into an empty database, after `casedesk migrate`):

* 2,000 partner organizations (70% on Standard, 30% on Premium) with an email domain and a
  time zone each, 5 contacts each (a fifth with Arabic names), 200 agents spread over the
  escalation levels' teams;
* `cases` cases over three years, Case IDs rising with time, the status mix of a working
  desk (about 8% new, open, waiting on the customer or on hold, the rest resolved or
  closed, recent cases far more often open), priorities, channels, assignees, categories;
* about 5 messages per case (the requester's description, agent replies, customer
  follow-ups, internal notes; some long), a fifth of the cases written in Arabic with the
  spellings people really type (hamza and alef forms, taa marbuta and ha, alef maqsura and
  ya, diacritics, tatweel), a rare word planted in a few messages for search benchmarks;
* each case's first-response SLA clock consistent with its thread and status (met, met
  late, breached, running, or paused while waiting on the customer), escalations up the
  levels for some cases, and the events all of this would have written.

How it is fast: rows are generated in Python from pre-built text pools with one seeded
PRNG and written per batch of cases, by executemany on SQLite (journal in memory,
synchronous off, foreign keys off for the load, all restored afterwards) and by COPY on
PostgreSQL (foreign-key triggers off for the session: the rows are consistent by
construction). Secondary indexes are dropped before the load and rebuilt once after it
(sorting once beats updating a B-tree per row), then ANALYZE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from casedesk.core.benchseed.seeder import Seeder, SeedError
from casedesk.core.benchseed.text import (
    AGENT_EMAIL,
    AGENT_PASSWORD,
    ARABIC_WORD,
    COMMON_WORD,
    DETAIL_MESSAGES,
    RARE_WORD,
)

__all__ = ["AGENT_EMAIL", "AGENT_PASSWORD", "ARABIC_WORD", "COMMON_WORD", "DETAIL_MESSAGES",
           "RARE_WORD", "SeedError", "seed"]


def seed(cases: int, *, messages_per_case: float = 5.0, rng_seed: int = 20260101,
         organizations: int = 2000, agents: int = 200, contacts_per_org: int = 5,
         progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Fill an empty, migrated database; returns what was written and how long it took."""
    if cases < 1:
        raise SeedError("--cases must be at least 1.")
    if not 1 <= messages_per_case <= 100:
        raise SeedError("--messages-per-case must be between 1 and 100.")
    if organizations < 1 or agents < 1 or contacts_per_org < 1:
        raise SeedError("--organizations, --agents and --contacts-per-org must be at least 1.")
    return Seeder(cases, messages_per_case, rng_seed, organizations, agents,
                  contacts_per_org, progress).run()
