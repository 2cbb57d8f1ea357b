"""Properties of the business-time arithmetic, over generated calendars and instants.

Calendars are drawn in zones with and without daylight saving (including Lord Howe's
half-hour shift and Kathmandu's +05:45), with random weekly hours (overnight ones too) and
holidays. The arithmetic is checked against itself (monotone, additive, inverse, pauses)
and against an independent oracle that reads the office clock the way a person would:
an instant is open when its local wall time falls in that day's hours (or the previous
day's overnight hours) and its local date is not a holiday. The oracle is silent on
instants whose wall time happens twice (the repeated autumn hour), where the module's
documented convention (first occurrence) and a wall-clock reading differ by design.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from casedesk.sla.calendar import (
    CalendarSpec,
    add_business_time,
    business_seconds_between,
    explain,
    is_open,
    next_open,
)

HOUR = 3600
# No example database: the tests leave no folder behind in the checkout. No deadline: the
# machine is shared, and speed is tested in test_calendar.py.
PROPERTY = settings(database=None, deadline=None, max_examples=150)
SLOW_PROPERTY = settings(database=None, deadline=None, max_examples=50)

ZONES = [
    "UTC",
    "Asia/Dubai",
    "Asia/Riyadh",
    "Asia/Kathmandu",
    "Europe/London",
    "Africa/Cairo",
    "Africa/Casablanca",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
]

quarter_hours = st.builds(
    time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])
)
intervals = st.tuples(quarter_hours, quarter_hours)


@st.composite
def calendars(draw: st.DrawFn) -> CalendarSpec:
    weekly = draw(st.dictionaries(st.integers(0, 6), st.lists(intervals, max_size=2),
                                  min_size=1))
    assume(any(weekly.values()))
    holidays = draw(st.sets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=25))
    return CalendarSpec(draw(st.sampled_from(ZONES)), False, weekly,
                        {day: "Holiday" for day in holidays})


instants = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 (bounds for a UTC strategy)
    max_value=datetime(2027, 6, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
)
whole_seconds = instants.map(lambda t: t.replace(microsecond=0))
business_seconds = st.integers(0, 120 * HOUR)


def _ambiguous(spec: CalendarSpec, instant: datetime) -> bool:
    local = instant.astimezone(spec.zone)
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def wall_clock_open(spec: CalendarSpec, instant: datetime) -> bool:
    """The oracle: open by reading the local wall clock, as a person would."""
    local = instant.astimezone(spec.zone)
    today, now = local.date(), local.time().replace(tzinfo=None, fold=0)
    if today in spec.holiday_names:
        return False
    for start, end in spec.weekly.get(today.weekday(), ()):
        if start <= now and (now < end or end <= start):
            return True
    yesterday = today - timedelta(days=1)
    return any(
        end <= start and now < end for start, end in spec.weekly.get(yesterday.weekday(), ())
    )


@PROPERTY
@given(calendars(), instants, business_seconds, business_seconds)
def test_more_time_is_never_due_earlier(
    spec: CalendarSpec, start: datetime, a: int, b: int
) -> None:
    small, large = sorted((a, b))
    assert add_business_time(spec, start, small) <= add_business_time(spec, start, large)


@PROPERTY
@given(calendars(), instants, st.integers(0, 10 * 24 * HOUR), business_seconds)
def test_a_later_start_is_never_due_earlier(
    spec: CalendarSpec, start: datetime, later_by: int, seconds: int
) -> None:
    later = start + timedelta(seconds=later_by)
    assert add_business_time(spec, start, seconds) <= add_business_time(spec, later, seconds)


@PROPERTY
@given(calendars(), instants, business_seconds, business_seconds)
def test_adding_is_additive(spec: CalendarSpec, start: datetime, a: int, b: int) -> None:
    assert add_business_time(spec, add_business_time(spec, start, a), b) == (
        add_business_time(spec, start, a + b)
    )


@PROPERTY
@given(calendars(), instants, business_seconds)
def test_counting_back_gives_the_time_added(
    spec: CalendarSpec, start: datetime, seconds: int
) -> None:
    due = add_business_time(spec, start, seconds)
    assert business_seconds_between(spec, start, due) == seconds
    # And the due time is the earliest such instant: a second earlier is not enough
    if seconds:
        assert business_seconds_between(spec, start, due - timedelta(seconds=1)) == seconds - 1


@PROPERTY
@given(calendars(), instants, st.integers(1, 120 * HOUR))
def test_due_times_never_fall_inside_closed_hours(
    spec: CalendarSpec, start: datetime, seconds: int
) -> None:
    # The due time is the instant the last second is counted: the instant just before it
    # is open by the office clock (the due time itself may be a closing time)
    due = add_business_time(spec, start, seconds)
    just_before = due - timedelta(microseconds=1)
    assert is_open(spec, just_before)
    assume(not _ambiguous(spec, just_before))
    assert wall_clock_open(spec, just_before)


@PROPERTY
@given(calendars(), instants)
def test_the_next_opening_is_open_and_nothing_before_it_is(
    spec: CalendarSpec, instant: datetime
) -> None:
    opening = next_open(spec, instant)
    assert opening >= instant
    assert is_open(spec, opening)
    assert business_seconds_between(spec, instant, opening) == 0
    assume(not _ambiguous(spec, opening))
    assert wall_clock_open(spec, opening)


@PROPERTY
@given(
    # Whole seconds: business_seconds_between rounds down to whole seconds, as the clocks
    # store them, so a pause from 10:00:00.5 would be a fraction of a second short.
    calendars(), whole_seconds, business_seconds, st.integers(0, 15 * 24 * HOUR),
    st.integers(0, 15 * 24 * HOUR),
)
def test_a_pause_moves_the_due_time_by_exactly_the_paused_business_time(
    spec: CalendarSpec, start: datetime, target: int, pause_after: int, pause_length: int
) -> None:
    # Given a clock started at `start` with `target` business seconds, paused from p1 to p2
    due = add_business_time(spec, start, target)
    p1 = start + timedelta(seconds=pause_after)
    p2 = p1 + timedelta(seconds=pause_length)
    paused = business_seconds_between(spec, p1, p2)
    # When it resumes, its due time is recomputed with the paused time added
    new_due = add_business_time(spec, start, target + paused)
    # Then the due time moved by exactly the paused business time
    assert business_seconds_between(spec, due, new_due) == paused
    assert add_business_time(spec, due, paused) == new_due
    # And if the pause began before the clock was due, the clock counted exactly its
    # target outside the pause
    if p1 <= due:
        assert (
            business_seconds_between(spec, start, p1)
            + business_seconds_between(spec, p2, max(p2, new_due))
            == target
        )


@SLOW_PROPERTY
@given(calendars(), instants.map(lambda t: t.replace(second=0, microsecond=0)),
       st.integers(1, 4 * 24 * 60))
def test_open_time_matches_the_office_clock_minute_by_minute(
    spec: CalendarSpec, start: datetime, minutes: int
) -> None:
    # Given a stretch of whole minutes (the hours are on quarter hours, so each minute is
    # wholly open or wholly closed)
    instants_ = [start + timedelta(minutes=n) for n in range(minutes)]
    assume(not any(_ambiguous(spec, t) for t in instants_))
    # Then the open seconds are the minutes the office clock shows as open
    expected = 60 * sum(wall_clock_open(spec, t) for t in instants_)
    end = start + timedelta(minutes=minutes)
    assert business_seconds_between(spec, start, end) == expected
    # And the explanation counts the same, covers the stretch, and agrees minute by minute
    segments = explain(spec, start, end)
    assert sum(s.seconds for s in segments if s.counted) == expected
    assert segments[0].start == start and segments[-1].end == end
    assert all(a.end == b.start for a, b in zip(segments, segments[1:], strict=False))
    for segment in segments:
        assert wall_clock_open(spec, segment.start) is segment.counted
