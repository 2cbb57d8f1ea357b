"""Business-time arithmetic: when is a due time, counted only in a calendar's open hours.

Pure functions over a `CalendarSpec` (no database): `add_business_time`,
`business_seconds_between`, `next_open`, `is_open` and `explain`. Every input and output
instant is timezone-aware; outputs are in UTC, except `explain`'s segments, which are in the
calendar's zone so that a person can check them against the office clock.

How a calendar is read (the conventions an agent or a customer can check by hand):

- Open hours are local wall-clock intervals per weekday (0 = Monday .. 6 = Sunday). An
  interval whose end is at or before its start runs past midnight into the next day
  (22:00-06:00); an end of 00:00 means midnight at the end of the day, and 00:00-00:00 is
  the whole day. An interval belongs to the weekday it starts on. Overlapping intervals
  count once.
- A holiday closes its whole local date, 00:00 to 24:00, including the part of an overnight
  interval that falls on it.
- Daylight saving: each day's local interval is turned into two instants with zoneinfo.
  A local time that does not exist (the hour skipped in spring) means the first instant
  after the gap: London's 01:30 on the last Sunday of March is 02:00 BST. A local time that
  happens twice (the hour repeated in autumn) means its first occurrence (fold=0), for
  starts and ends alike: the moment a clock on the wall first shows it. The open time of an
  interval is the real time elapsed between those two instants, so a day whose clock jumps
  inside an open interval has one hour less (spring) or one hour more (autumn) of open
  time. Jumps at midnight (Africa/Cairo) move the day's edge the same way.
- Due time convention: `add_business_time` returns the instant at which the last second is
  counted. That may be the closing instant of an open interval (17:00 sharp), never an
  instant later in closed hours. Adding 0 seconds returns the start unchanged, even when the
  start is in closed hours.
- `business_seconds_between` counts whole seconds (rounded down).
- An always-open calendar is plain UTC arithmetic; its weekly hours and holidays are ignored.
- A calendar with no open time for two years from some point raises `ClosedCalendarError`
  when the arithmetic needs to go past it. A holiday list covering a whole week (or month)
  just skips it.

The walk goes interval by interval, one local day at a time (`_open_intervals`), so adding
96 hours across weekends and holidays costs a few dozen steps; each day's UTC intervals are
cached, because a sweep computes many due times over the same few days.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

import holidays as national_sets

__all__ = [
    "ALWAYS_OPEN",
    "CLOSED_HORIZON_DAYS",
    "CalendarSpec",
    "ClosedCalendarError",
    "InvalidCalendar",
    "Segment",
    "add_business_time",
    "business_seconds_between",
    "explain",
    "check_country",
    "get_zone",
    "is_open",
    "national_holidays",
    "next_open",
]

CLOSED_HORIZON_DAYS = 731
_ONE_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
_MIDNIGHT = time(0)


class InvalidCalendar(ValueError):
    """The calendar cannot be used as described (unknown time zone, malformed hours)."""


class ClosedCalendarError(InvalidCalendar):
    """The calendar has no open time in the next two years, so no due time exists."""


@functools.cache
def _available_zones() -> frozenset[str]:
    # available_timezones() walks the zone folders on disk: read them once per process.
    return frozenset(zoneinfo.available_timezones())


def get_zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone named `name` (an IANA name such as "Asia/Dubai"), or InvalidCalendar."""
    if name not in _available_zones():
        raise InvalidCalendar(
            f'"{name}" is not a time zone this server knows. '
            'Use an IANA name such as "Asia/Dubai", "Africa/Cairo" or "Europe/London".'
        )
    return zoneinfo.ZoneInfo(name)


@functools.cache
def _countries() -> Mapping[str, Sequence[str]]:
    return national_sets.list_supported_countries()


def check_country(country: str, subdivision: str = "") -> None:
    """InvalidCalendar unless the `holidays` package knows the country (and subdivision)."""
    subdivisions = _countries().get(country)
    if subdivisions is None:
        raise InvalidCalendar(
            f'"{country}" is not a country code with a national holiday list. '
            "Use an ISO 3166 code such as AE, SA, EG, JO or MA."
        )
    if subdivision and subdivision not in subdivisions:
        known = ", ".join(subdivisions) if subdivisions else "none"
        raise InvalidCalendar(
            f'{country} has no subdivision "{subdivision}" (known: {known}).'
        )


@functools.lru_cache(maxsize=1024)
def national_holidays(country: str, subdivision: str, year: int) -> Mapping[date, str]:
    """The public holidays of `country` (and `subdivision`) in `year`, named in English.

    Cached per process: the `holidays` package computes them (lunar-calendar dates
    included), which costs milliseconds, and a year's list does not change while the
    process runs. Read-only, because the cache hands the same mapping to every caller.
    """
    check_country(country, subdivision)
    entries = national_sets.country_holidays(country, subdiv=subdivision or None, years=year)
    english = next(
        (code for code in ("en_US", "en_GB") if code in entries.supported_languages), None
    )
    if english is not None and english != entries.default_language:
        entries = national_sets.country_holidays(
            country, subdiv=subdivision or None, years=year, language=english
        )
    # Not filtered to `year`: an observed day can fall in the year before (a Saturday
    # 1 January observed on Friday 31 December) and only this year's list has it.
    return MappingProxyType(dict(sorted(entries.items())))


@dataclass(frozen=True)
class CalendarSpec:
    """A calendar as the arithmetic sees it.

    `weekly` maps a weekday (0 = Monday .. 6 = Sunday) to local (start, end) intervals;
    `holidays` maps closed local dates to their names (a plain set of dates is accepted
    and named "Holiday"). Both are copied and normalized, so the spec is immutable and
    hashable.
    """

    time_zone: str = "UTC"
    always_open: bool = True
    weekly: Mapping[int, Sequence[tuple[time, time]]] = field(default_factory=dict)
    holidays: Mapping[date, str] | Set[date] = field(default_factory=dict)
    zone: zoneinfo.ZoneInfo = field(init=False, repr=False, compare=False)
    holiday_names: dict[date, str] = field(init=False, repr=False, compare=False)
    _key: tuple[Any, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zone = get_zone(self.time_zone)
        weekly: dict[int, tuple[tuple[time, time], ...]] = {}
        for day, intervals in self.weekly.items():
            if not isinstance(day, int) or not 0 <= day <= 6:
                raise InvalidCalendar(f"Weekday {day!r} is not 0 (Monday) to 6 (Sunday).")
            checked = []
            for start, end in intervals:
                if not isinstance(start, time) or not isinstance(end, time):
                    raise InvalidCalendar(f"Open hours {start!r}-{end!r} are not times of day.")
                if start.tzinfo is not None or end.tzinfo is not None:
                    raise InvalidCalendar("Open hours are local times: give them no tzinfo.")
                checked.append((start, end))
            if checked:
                weekly[day] = tuple(sorted(checked))
        names = _holiday_names(self.holidays)
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", names)
        object.__setattr__(self, "holiday_names", names)
        object.__setattr__(
            self,
            "_key",
            (self.time_zone, self.always_open, tuple(sorted(weekly.items())),
             frozenset(names.items())),
        )

    def __hash__(self) -> int:
        return hash(self._key)


def _holiday_names(holidays: Mapping[date, str] | Iterable[date]) -> dict[date, str]:
    if isinstance(holidays, Mapping):
        items = dict(holidays.items())
    else:
        items = dict.fromkeys(holidays, "Holiday")
    for day in items:
        # datetime is a date subclass: a datetime here would never match a local date.
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidCalendar(f"Holiday {day!r} is not a date.")
    return items


ALWAYS_OPEN = CalendarSpec()


@dataclass(frozen=True)
class Segment:
    """One stretch of `explain`'s walk, in the calendar's zone.

    reason is "open" (counted), "closed" (outside the day's hours), "weekend" (a weekday
    with no hours) or "holiday: <name>".
    """

    start: datetime
    end: datetime
    counted: bool
    reason: str

    @property
    def seconds(self) -> int:
        return (self.end - self.start) // _SECOND


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware; got the naive datetime {value}.")
    return value.astimezone(UTC)


def _local_to_utc(zone: zoneinfo.ZoneInfo, wall: datetime) -> datetime:
    """The instant at which the wall clock (naive `wall`) first shows that time.

    Repeated times: the first occurrence (fold=0). Skipped times: the first instant after
    the gap, which is the transition itself.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In a gap, fold=0 reads the wall time with the offset from before the jump, which
    # lands after the transition; fold=1 reads it with the offset after, which lands
    # before. The transition lies between: find it to the second (transitions are on
    # whole seconds), in a dozen steps for a one-hour gap.
    before = first.utcoffset() or timedelta(0)
    after = wall.replace(tzinfo=zone, fold=1).utcoffset() or timedelta(0)
    low, high = instant - (after - before), instant
    while high - low > _SECOND:
        middle = low + ((high - low) // _SECOND // 2) * _SECOND
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


def _midnight(spec: CalendarSpec, day: date) -> datetime:
    return _local_to_utc(spec.zone, datetime.combine(day, _MIDNIGHT))  # noqa: DTZ001


@functools.lru_cache(maxsize=16384)
def _day_intervals(spec: CalendarSpec, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC open intervals that start on local date `day`, holidays cut out."""
    hours = spec.weekly.get(day.weekday())
    if not hours:
        return ()
    following = day + _ONE_DAY
    closed_today = day in spec.holidays
    closed_tomorrow = following in spec.holidays
    result = []
    for start, end in hours:
        overnight = end <= start
        if closed_today and not overnight:
            continue
        opens = _local_to_utc(spec.zone, datetime.combine(day, start))  # noqa: DTZ001
        closes = _local_to_utc(
            spec.zone, datetime.combine(following if overnight else day, end)  # noqa: DTZ001
        )
        if overnight and closed_today:
            opens = max(opens, _midnight(spec, following))
        if overnight and closed_tomorrow:
            closes = min(closes, _midnight(spec, following))
        if opens < closes:
            result.append((opens, closes))
    return tuple(result)


def _open_intervals(
    spec: CalendarSpec, since: datetime, until: datetime | None
) -> Iterator[tuple[datetime, datetime]]:
    """Open UTC intervals [a, b) after `since`, in order, not overlapping, a >= since.

    Walks local days from the day before `since` (its overnight hours may still be open).
    With `until`, stops after the local day of `until`; without it, raises
    ClosedCalendarError after two years of days with no open time.
    """
    day = since.astimezone(spec.zone).date() - _ONE_DAY
    last_day = until.astimezone(spec.zone).date() if until is not None else None
    last_open_day = day
    covered = since
    while last_day is None or day <= last_day:
        for opens, closes in _day_intervals(spec, day):
            # Intervals start in order; clipping to the end of what was already yielded
            # keeps overlapping hours (Monday 22:00-06:00 and Tuesday 00:00-08:00) from
            # counting twice.
            opens = max(opens, covered)
            if opens < closes:
                yield opens, closes
                covered = closes
                last_open_day = day
        if last_day is None and (day - last_open_day).days > CLOSED_HORIZON_DAYS:
            raise ClosedCalendarError(
                f"The calendar has no open hours from {last_open_day:%Y-%m-%d} for two years: "
                "give it weekly hours, fewer holidays, or make it always open."
            )
        day += _ONE_DAY


def add_business_time(spec: CalendarSpec, start: datetime, seconds: int) -> datetime:
    """The earliest instant (UTC) at which `seconds` of open time have passed since `start`."""
    begin = _as_utc(start, "start")
    if seconds < 0:
        raise ValueError(f"Cannot add a negative business time ({seconds} s).")
    remaining = timedelta(seconds=seconds)
    if spec.always_open or not remaining:
        return begin + remaining
    for opens, closes in _open_intervals(spec, begin, None):
        available = closes - opens
        if remaining <= available:
            return opens + remaining
        remaining -= available
    raise AssertionError("_open_intervals without `until` never ends without raising")


def business_seconds_between(spec: CalendarSpec, a: datetime, b: datetime) -> int:
    """Whole seconds of open time from `a` to `b` (0 if b <= a)."""
    begin, end = _as_utc(a, "a"), _as_utc(b, "b")
    if end <= begin:
        return 0
    if spec.always_open:
        return (end - begin) // _SECOND
    total = timedelta(0)
    for opens, closes in _open_intervals(spec, begin, end):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total // _SECOND


def next_open(spec: CalendarSpec, t: datetime) -> datetime:
    """`t` (in UTC) if the calendar is open then, else the instant it next opens."""
    instant = _as_utc(t, "t")
    if spec.always_open:
        return instant
    for opens, _closes in _open_intervals(spec, instant, None):
        return opens
    raise AssertionError("_open_intervals without `until` never ends without raising")


def is_open(spec: CalendarSpec, t: datetime) -> bool:
    """Whether `t` falls inside open hours (an interval's closing instant does not)."""
    instant = _as_utc(t, "t")
    if spec.always_open:
        return True
    for opens, _closes in _open_intervals(spec, instant, instant):
        return opens == instant
    return False


def explain(spec: CalendarSpec, start: datetime, end: datetime) -> list[Segment]:
    """The walk from `start` to `end` as counted and skipped segments, for a timeline.

    Consecutive segments touch; counted segments add up to business_seconds_between.
    Closed stretches are split at local midnights where their reason changes.
    """
    begin, finish = _as_utc(start, "start"), _as_utc(end, "end")
    if finish <= begin:
        return []
    zone = spec.zone
    if spec.always_open:
        return [Segment(begin.astimezone(zone), finish.astimezone(zone), True, "open")]
    segments: list[Segment] = []
    cursor = begin
    for opens, closes in _open_intervals(spec, begin, finish):
        if opens >= finish:
            break
        if opens > cursor:
            _append_closed(spec, segments, cursor, opens)
        closes = min(closes, finish)
        _append(segments, Segment(opens.astimezone(zone), closes.astimezone(zone), True, "open"))
        cursor = closes
    if cursor < finish:
        _append_closed(spec, segments, cursor, finish)
    return segments


def _append(segments: list[Segment], segment: Segment) -> None:
    last = segments[-1] if segments else None
    if last is not None and last.reason == segment.reason and last.end == segment.start:
        segments[-1] = Segment(last.start, segment.end, last.counted, last.reason)
    else:
        segments.append(segment)


def _append_closed(spec: CalendarSpec, segments: list[Segment], begin: datetime,
                   end: datetime) -> None:
    zone = spec.zone
    day = begin.astimezone(zone).date()
    cursor = begin
    while cursor < end:
        piece_end = min(_midnight(spec, day + _ONE_DAY), end)
        if piece_end > cursor:
            segment = Segment(
                cursor.astimezone(zone), piece_end.astimezone(zone), False,
                _closed_reason(spec, day),
            )
            _append(segments, segment)
            cursor = piece_end
        day += _ONE_DAY


def _closed_reason(spec: CalendarSpec, day: date) -> str:
    name = spec.holiday_names.get(day)
    if name is not None:
        return f"holiday: {name}"
    if not spec.weekly.get(day.weekday()):
        return "weekend"
    return "closed"
