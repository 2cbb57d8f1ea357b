"""Who else is on a case page: each open page pings every few seconds (desk/case.js) with
"viewing" or "typing"; a ping older than FRESH no longer counts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.desk.models import Presence

# Pages ping every 10 s; a missed ping or two must not make an agent vanish.
FRESH = timedelta(seconds=30)
# Rows this old are deleted now and then, so the table holds only recent visits.
FORGET = timedelta(hours=1)


@dataclass(frozen=True)
class Other:
    name: str
    state: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "state": self.state}


def ping(ticket_id: int, agent: User, state: str) -> None:
    """Record that `agent` is on the case now, in `state` (one row, overwritten)."""
    now = timezone.now()
    # An upsert: two tabs of one agent pinging at once update one row, never collide.
    Presence.objects.bulk_create(
        [Presence(ticket_id=ticket_id, agent=agent, state=state, seen_at=now)],
        update_conflicts=True, unique_fields=["ticket", "agent"],
        update_fields=["state", "seen_at"],
    )
    if random.random() < 0.02:  # noqa: S311 - housekeeping, not security
        Presence.objects.filter(seen_at__lt=now - FORGET).delete()


def leave(ticket_id: int, agent: User) -> None:
    Presence.objects.filter(ticket_id=ticket_id, agent=agent).delete()


def others_on(ticket_id: int, agent: User) -> list[Other]:
    """The other agents on the case now, typing ones first.

    A fixed statement rather than the ORM's: every case page and every ping (each open
    page, every 10 s) asks, and compiling the query cost more than running it."""
    presence = connection.ops.quote_name(Presence._meta.db_table)
    users = connection.ops.quote_name(User._meta.db_table)
    since = connection.ops.adapt_datetimefield_value(timezone.now() - FRESH)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT u.full_name, u.email, p.state FROM {presence} p "  # noqa: S608 - our names
            f"JOIN {users} u ON u.id = p.agent_id "
            "WHERE p.ticket_id = %s AND p.seen_at >= %s AND p.agent_id <> %s "
            "ORDER BY p.state, u.full_name",
            [ticket_id, since, agent.pk],
        )
        found = cursor.fetchall()
    # User.get_full_name: the name, else the address.
    return [Other(name or email, state) for name, email, state in found]
