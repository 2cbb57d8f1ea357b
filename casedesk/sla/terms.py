"""What a case's SLA clocks are computed from (its plan, the plan's targets for its
priority, the plan's calendar), kept in each process and dropped when any of it changes.

Opening a case and each customer reply need them: without this, three to six queries
(the organization, its plan or the default plan, the target, the calendar with its weekly
hours and holidays) and, for a business-hours calendar, four years of national holidays,
for data an admin changes a few times a year while mail arrives hundreds of times a
second.

Invalidation: database triggers (migration sla 0007) write a new random token into
TermsToken on every insert, update or delete of a plan, target, calendar, weekly hours or
holiday, whoever makes it: the admin, a shell, a migration, QuerySet.update(). Every use
reads the token first, in the same statement as the organization's plan (so the common
case costs one indexed read instead of the queries above), and a cached value is used only
under the token it was read under. Read the token, then the data: a change committed
between the two can only put newer data under an older token, which nobody reads after
the change. The token is random rather than a counter, because a rolled-back change brings
the previous token back together with the previous rows: a token always names one state of
the tables. Without a token row (a test database flushed between tests), nothing is cached.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.utils import timezone

from casedesk.accounts.models import Organization
from casedesk.core import rows
from casedesk.sla import calendar as sla_calendar
from casedesk.sla.models import Calendar, Clock, Holiday, Plan, Target, TermsToken, WeeklyHours
from casedesk.tickets.models import Ticket

log = logging.getLogger(__name__)

Kind = Clock.Kind
T = TypeVar("T")
# Entries kept under one token: far more than any install's plans x priorities x years.
MAX_ENTRIES = 10_000


class _Cache:
    """Values by (token, key). Keyed by token, not emptied per token only, so a thread
    that read an older token meanwhile can only add entries nobody will read."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.entries: dict[tuple[str, Any], Any] = {}
        self.lock = threading.Lock()

    def get(self, token: str | None, key: Any, load: Callable[[], T]) -> T:
        if token is None:
            return load()
        with self.lock:
            if token != self.token or len(self.entries) > MAX_ENTRIES:
                self.entries.clear()
                self.token = token
            found = self.entries.get((token, key), self)
        if found is not self:
            return found  # type: ignore[no-any-return]
        value = load()
        with self.lock:
            if token == self.token:
                self.entries[(token, key)] = value
        return value

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.token = None


_cache = _Cache()
_ORGANIZATION = Ticket._meta.get_field("organization")


def clear_cache() -> None:
    """Forget everything cached in this process (the next use reloads)."""
    _cache.clear()


def _watched_triggers() -> set[str]:
    """The triggers migration 0007 made, by name."""
    tables = [m._meta.db_table for m in (Plan, Target, Calendar, WeeklyHours, Holiday)]
    if connection.vendor == "sqlite":
        return {f"{t}_terms_{op}" for t in tables for op in ("insert", "update", "delete")}
    return {f"{t}_terms_changed" for t in tables}


_triggers_checked: dict[tuple[str, str], bool] = {}


def triggers_in_place() -> bool:
    """Whether every trigger that replaces the token exists, checked once per process and
    database. They can vanish: on SQLite, a later migration that alters a watched table
    rebuilds it (copy, drop, rename), and its triggers go with the dropped table. Without
    them nothing is cached (and a warning says so), rather than served stale."""
    key = (connection.vendor, str(connection.settings_dict["NAME"]))
    if key not in _triggers_checked:
        wanted = _watched_triggers()
        names = rows.marks(len(wanted))
        if connection.vendor == "sqlite":
            sql = f"SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"  # noqa: S608
        elif connection.vendor == "postgresql":
            sql = f"SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname IN ({names})"  # noqa: S608
        else:
            sql = ""
        found: set[str] = set()
        if sql:
            with connection.cursor() as cursor:
                cursor.execute(sql, sorted(wanted))
                found = {row[0] for row in cursor.fetchall()}
        if found != wanted:
            log.warning("SLA terms are not cached: triggers missing (%s); re-create them "
                        "as migration sla 0007 does", ", ".join(sorted(wanted - found)))
        _triggers_checked[key] = found == wanted
    return _triggers_checked[key]


def _read(organization_id: int | None) -> tuple[str | None, int | None]:
    """The current token (None when the triggers are missing) and the organization's plan
    id, in one statement."""
    token_table = connection.ops.quote_name(TermsToken._meta.db_table)
    org_table = connection.ops.quote_name(Organization._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT token FROM {token_table} WHERE id = 1), "  # noqa: S608 - our names
            f"(SELECT plan_id FROM {org_table} WHERE id = %s)",
            [organization_id],
        )
        token, plan_id = cursor.fetchone()
    if not token or not triggers_in_place():
        return None, plan_id
    return str(token), plan_id


def current_token() -> str | None:
    return _read(None)[0]


def _plan(token: str | None, plan_id: int) -> Plan | None:
    return _cache.get(token, ("plan", plan_id),
                      lambda: Plan.objects.filter(pk=plan_id).first())


def _default(token: str | None) -> Plan | None:
    plan_id = _cache.get(token, "default", lambda: getattr(Plan.default(), "pk", None))
    return _plan(token, plan_id) if plan_id is not None else None


def _plan_for(ticket: Any) -> tuple[Plan | None, str | None]:
    organization = None
    if ticket.organization_id is not None and _ORGANIZATION.is_cached(ticket):
        organization = ticket.organization
    token, org_plan_id = _read(ticket.organization_id if organization is None else None)
    if organization is not None:
        org_plan_id = organization.plan_id
    if org_plan_id is not None:
        return _plan(token, org_plan_id), token
    return _default(token), token


def plan_for_ticket(ticket: Any) -> Plan | None:
    """The plan a case is served under now: its organization's, else the default plan
    (contacts without an organization, organizations without a plan).

    An organization already loaded with the case (select_related) is taken as loaded;
    otherwise its plan is read in the token's statement."""
    return _plan_for(ticket)[0]


def first_response_terms(ticket: Any) -> tuple[Plan | None, bool, int | None]:
    """The plan a case is served under now, whether that is the default plan (no
    organization, or one without a plan), and the plan's first response target for the
    case's priority in seconds (None without one): what the case page and the macros'
    {{plan_target}} show, read in one statement while nothing changed (the organization
    is read first unless it came with the case)."""
    organization = ticket.organization if ticket.organization_id is not None else None
    is_default = organization is None or organization.plan_id is None
    plan, token = _plan_for(ticket)
    if plan is None:
        return None, is_default, None
    seconds = targets_for(plan, ticket.priority, token).get(str(Kind.FIRST_RESPONSE))
    return plan, is_default, seconds


def plan_by_id(plan_id: int, token: str | None = None) -> Plan | None:
    return _plan(token if token is not None else current_token(), plan_id)


def _load_targets(plan_id: int, priority: int) -> dict[str, int]:
    target = Target.objects.filter(plan_id=plan_id, priority=priority).first()
    if target is None:
        return {}
    minutes = {
        Kind.FIRST_RESPONSE: target.first_response_minutes,
        Kind.NEXT_RESPONSE: target.next_response_minutes,
        Kind.RESOLUTION: target.resolution_minutes,
    }
    return {str(kind): value * 60 for kind, value in minutes.items() if value}


def targets_for(plan: Plan, priority: int, token: str | None = None) -> dict[str, int]:
    """Business seconds per clock kind for this priority; kinds without a target are absent."""
    token = token if token is not None else current_token()
    return dict(_cache.get(token, ("targets", plan.pk, priority),
                           lambda: _load_targets(plan.pk, priority)))


def _load_spec(plan: Plan) -> sla_calendar.CalendarSpec:
    calendar = plan.calendar
    try:
        return calendar.spec()  # type: ignore[union-attr]
    except sla_calendar.InvalidCalendar as error:
        log.warning("Plan %s: calendar unusable (%s); counting around the clock", plan, error)
        return sla_calendar.ALWAYS_OPEN


def spec_for(plan: Plan, token: str | None = None) -> sla_calendar.CalendarSpec:
    """The plan's calendar for the arithmetic; no calendar means around the clock.

    A calendar that cannot be used (a time zone this server does not know) counts around
    the clock rather than stopping the case's change: the clock is kept, and the
    calendar's own form refuses such a zone. Cached per calendar and year (a spec holds
    national holidays from last year to two years ahead of the year it was made in).
    """
    if plan.calendar_id is None:
        return sla_calendar.ALWAYS_OPEN
    token = token if token is not None else current_token()
    return _cache.get(token, ("spec", plan.calendar_id, timezone.now().year),
                      lambda: _load_spec(plan))


@dataclass
class Terms:
    """What a case's clocks are computed from, looked up once per change."""

    plan: Plan
    priority: int
    targets: dict[str, int]
    spec: sla_calendar.CalendarSpec

    @classmethod
    def of(cls, ticket: Any, plan: Plan | None = None) -> Terms | None:
        if plan is None:
            plan, token = _plan_for(ticket)
        else:
            token = current_token()
        if plan is None:
            return None
        return cls(plan, ticket.priority, targets_for(plan, ticket.priority, token),
                   spec_for(plan, token))
