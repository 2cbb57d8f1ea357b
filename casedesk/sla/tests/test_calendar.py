"""Business-time arithmetic by example: the seed's targets in real office calendars,
daylight saving in London and Cairo, overnight hours, holidays and bad calendars.

Every expected value here was worked out by hand from the calendar, so a reader can check
each one against a wall calendar.
"""

from __future__ import annotations

import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta

import pytest

from casedesk.sla import calendar as sla_calendar
from casedesk.sla.calendar import (
    ALWAYS_OPEN,
    CalendarSpec,
    ClosedCalendarError,
    InvalidCalendar,
    add_business_time,
    business_seconds_between,
    check_country,
    explain,
    is_open,
    national_holidays,
    next_open,
)

HOUR = 3600
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
DUBAI = sla_calendar.get_zone("Asia/Dubai")
LONDON = sla_calendar.get_zone("Europe/London")
CAIRO = sla_calendar.get_zone("Africa/Cairo")


def hours(days: tuple[int, ...], start: time, end: time) -> dict[int, list[tuple[time, time]]]:
    return {day: [(start, end)] for day in days}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Sunday to Thursday 08:00-17:00, Friday and Saturday weekend, as in much of the Gulf.
GULF_OFFICE = CalendarSpec(
    "Asia/Dubai", False, hours((SUN, MON, TUE, WED, THU), time(8), time(17))
)
# Monday to Friday 09:00-18:00 in London.
LONDON_OFFICE = CalendarSpec(
    "Europe/London", False, hours((MON, TUE, WED, THU, FRI), time(9), time(18))
)
EVERY_DAY = tuple(range(7))


# --- The seed's targets ---------------------------------------------------------------

# Thursday 19 November 2026, 15:00 in Dubai: two open hours left before the weekend.
GULF_START = datetime(2026, 11, 19, 15, tzinfo=DUBAI)


@pytest.mark.parametrize(
    ("plan", "priority", "target_hours", "due_local"),
    [
        ("Premium", "High", 1, datetime(2026, 11, 19, 16, tzinfo=DUBAI)),
        ("Standard", "High", 2, datetime(2026, 11, 19, 17, tzinfo=DUBAI)),
        ("Premium", "Medium", 4, datetime(2026, 11, 22, 10, tzinfo=DUBAI)),
        ("Standard", "Medium", 8, datetime(2026, 11, 22, 14, tzinfo=DUBAI)),
        ("Premium", "Low", 48, datetime(2026, 11, 29, 9, tzinfo=DUBAI)),
        ("Standard", "Low", 72, datetime(2026, 12, 1, 15, tzinfo=DUBAI)),
        ("Premium", "Question", 72, datetime(2026, 12, 1, 15, tzinfo=DUBAI)),
        ("Standard", "Question", 96, datetime(2026, 12, 6, 12, tzinfo=DUBAI)),
    ],
)
def test_seed_targets_in_a_sunday_to_thursday_office(
    plan: str, priority: str, target_hours: int, due_local: datetime
) -> None:
    # Given a case raised on Thursday 15:00 in Dubai, with a Friday-Saturday weekend
    # When the plan's first-response target is counted in office hours
    due = add_business_time(GULF_OFFICE, GULF_START, target_hours * HOUR)
    # Then the due time skips the evenings and the weekend, and is given in UTC
    assert due == due_local
    assert due.tzinfo is UTC
    # And counting back gives the target exactly
    assert business_seconds_between(GULF_OFFICE, GULF_START, due) == target_hours * HOUR


def test_due_time_is_the_instant_the_last_second_is_counted() -> None:
    # Given two open hours left on Thursday (15:00-17:00)
    # When exactly two hours are due
    due = add_business_time(GULF_OFFICE, GULF_START, 2 * HOUR)
    # Then the case is due at 17:00 sharp, not at Sunday's opening
    assert due == datetime(2026, 11, 19, 17, tzinfo=DUBAI)
    # And one more second lands one second after Sunday's opening
    assert add_business_time(GULF_OFFICE, GULF_START, 2 * HOUR + 1) == datetime(
        2026, 11, 22, 8, 0, 1, tzinfo=DUBAI
    )


def test_a_case_raised_over_the_weekend_counts_from_the_opening() -> None:
    # Given a case raised on Friday night
    raised = datetime(2026, 11, 20, 23, 30, tzinfo=DUBAI)
    # Then the office opens on Sunday at 08:00 and a 2-hour target is due at 10:00
    assert next_open(GULF_OFFICE, raised) == datetime(2026, 11, 22, 8, tzinfo=DUBAI)
    assert not is_open(GULF_OFFICE, raised)
    assert add_business_time(GULF_OFFICE, raised, 2 * HOUR) == datetime(
        2026, 11, 22, 10, tzinfo=DUBAI
    )


def test_around_the_clock_is_plain_elapsed_time() -> None:
    # Given the 24/7 calendar (the seed's default)
    start = utc(2026, 11, 20, 23, 30)  # a Friday night
    # Then 96 hours are 96 hours, over weekends and everything
    assert add_business_time(ALWAYS_OPEN, start, 96 * HOUR) == start + timedelta(hours=96)
    assert business_seconds_between(ALWAYS_OPEN, start, start + timedelta(days=2)) == 48 * HOUR
    assert next_open(ALWAYS_OPEN, start) == start
    assert explain(ALWAYS_OPEN, start, start + timedelta(hours=5))[0].seconds == 5 * HOUR


def test_a_london_office_over_the_weekend_the_clocks_go_forward() -> None:
    # Given Friday 27 March 2026, 17:00 GMT, one hour before closing; the clocks go
    # forward on Sunday 29 March
    start = datetime(2026, 3, 27, 17, tzinfo=LONDON)
    # When 2 hours are due
    due = add_business_time(LONDON_OFFICE, start, 2 * HOUR)
    # Then the due time is Monday 10:00 on the office clock, which is now BST (09:00 UTC)
    assert due == datetime(2026, 3, 30, 10, tzinfo=LONDON)
    assert due == utc(2026, 3, 30, 9)


# --- Daylight saving: London --------------------------------------------------------


def test_london_days_when_the_clocks_change_have_23_and_25_open_hours() -> None:
    # Given a calendar open all day, every day, in London
    spec = CalendarSpec("Europe/London", False, hours(EVERY_DAY, time(0), time(0)))

    def open_hours(day: date) -> float:
        start = datetime.combine(day, time(0), tzinfo=LONDON)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
        return business_seconds_between(spec, start, end) / HOUR

    # Then the last Sunday of March has 23 hours and the last Sunday of October 25
    assert open_hours(date(2026, 3, 28)) == 24
    assert open_hours(date(2026, 3, 29)) == 23
    assert open_hours(date(2026, 10, 25)) == 25
    assert open_hours(date(2026, 10, 26)) == 24


def test_london_night_shift_is_an_hour_shorter_in_march_and_longer_in_october() -> None:
    # Given a Saturday night shift, 22:00 to 06:00
    spec = CalendarSpec("Europe/London", False, hours((SAT,), time(22), time(6)))
    march = datetime(2026, 3, 28, 22, tzinfo=LONDON)
    october = datetime(2026, 10, 24, 22, tzinfo=LONDON)
    # Then the night the clocks go forward has 7 open hours and the night they go back 9
    assert business_seconds_between(spec, march, march + timedelta(days=1)) == 7 * HOUR
    assert business_seconds_between(spec, october, october + timedelta(days=1)) == 9 * HOUR
    # And 7 hours from the start of the March shift are due at its end, 06:00 BST
    assert add_business_time(spec, march, 7 * HOUR) == datetime(2026, 3, 29, 6, tzinfo=LONDON)
    # And 8 hours run into the next Saturday's shift: 23:00 BST on 4 April
    assert add_business_time(spec, march, 8 * HOUR) == datetime(2026, 4, 4, 23, tzinfo=LONDON)


def test_london_hours_that_start_in_the_skipped_hour_open_when_the_clock_jumps() -> None:
    # Given Sunday hours 01:30-09:00; on 29 March 2026 01:30 does not exist in London
    spec = CalendarSpec("Europe/London", False, hours((SUN,), time(1, 30), time(9)))
    # Then the office opens at the first instant after the gap: 02:00 BST (01:00 UTC)
    assert next_open(spec, utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 1)
    # And that Sunday has 7 open hours instead of 7.5
    day = (utc(2026, 3, 29, 0), utc(2026, 3, 30, 0))
    assert business_seconds_between(spec, *day) == 7 * HOUR
    # And the walk shows the office clock: closed until 02:00, open until 09:00
    segments = explain(spec, *day)
    assert [(s.start.strftime("%H:%M"), s.end.strftime("%H:%M"), s.reason) for s in segments][
        :3
    ] == [("00:00", "02:00", "closed"), ("02:00", "09:00", "open"), ("09:00", "00:00", "closed")]


def test_london_hours_that_start_in_the_repeated_hour_open_at_its_first_occurrence() -> None:
    # Given Sunday hours 01:30-09:00; on 25 October 2026 01:30 happens twice in London
    spec = CalendarSpec("Europe/London", False, hours((SUN,), time(1, 30), time(9)))
    # Then the office opens the first time the clock shows 01:30 (BST, 00:30 UTC)
    assert next_open(spec, utc(2026, 10, 25, 0)) == utc(2026, 10, 25, 0, 30)
    # And the shift lasts the real time that passes until 09:00 GMT: 8.5 hours
    day = (utc(2026, 10, 24, 23), utc(2026, 10, 26, 0))
    assert business_seconds_between(spec, *day) == 8 * HOUR + 1800


def test_london_hours_that_end_in_the_repeated_hour_close_at_its_first_occurrence() -> None:
    # Given Sunday hours 00:00-01:30 on 25 October 2026
    spec = CalendarSpec("Europe/London", False, hours((SUN,), time(0), time(1, 30)))
    # Then they close when the clock first shows 01:30 (BST): 1.5 hours, as on other days
    assert business_seconds_between(spec, utc(2026, 10, 24, 0), utc(2026, 10, 26)) == 5400
    assert add_business_time(spec, utc(2026, 10, 24, 0), 5400) == utc(2026, 10, 25, 0, 30)


# --- Daylight saving: Cairo (observed again since 2023; transitions at midnight) ------


def test_cairo_2026_transitions_are_where_the_zone_data_puts_them() -> None:
    # The tests below rely on these two instants (tzdata 2023c or later).
    assert datetime(2026, 4, 23, 21, 59, tzinfo=UTC).astimezone(CAIRO).utcoffset() == (
        timedelta(hours=2)
    )
    assert utc(2026, 4, 23, 22).astimezone(CAIRO) == datetime(2026, 4, 24, 1, tzinfo=CAIRO)
    assert utc(2026, 10, 29, 21).astimezone(CAIRO).utcoffset() == timedelta(hours=2)
    assert utc(2026, 10, 29, 20, 59).astimezone(CAIRO).utcoffset() == timedelta(hours=3)


def test_cairo_days_when_the_clocks_change_have_23_and_25_open_hours() -> None:
    # Given a calendar open all day, every day, in Cairo
    spec = CalendarSpec("Africa/Cairo", False, hours(EVERY_DAY, time(0), time(0)))

    def open_hours(day: date) -> float:
        start = datetime.combine(day, time(0), tzinfo=CAIRO)
        return business_seconds_between(spec, start, start + timedelta(days=1)) / HOUR

    # Then Friday 24 April 2026, whose midnight does not exist, has 23 hours (its first
    # instant is 01:00 EEST), and Thursday 29 October, which ends twice, has 25 hours
    assert open_hours(date(2026, 4, 23)) == 24
    assert business_seconds_between(
        spec, utc(2026, 4, 23, 22), utc(2026, 4, 24, 21)
    ) == 23 * HOUR
    assert open_hours(date(2026, 10, 29)) == 25


def test_cairo_thursday_night_shift_across_both_changes() -> None:
    # Given a Thursday night shift, 20:00 to 04:00; Cairo's clocks jump at its midnight
    spec = CalendarSpec("Africa/Cairo", False, hours((THU,), time(20), time(4)))
    april = datetime(2026, 4, 23, 20, tzinfo=CAIRO)
    october = datetime(2026, 10, 29, 20, tzinfo=CAIRO)
    # Then the April shift has 7 hours and the October shift 9
    assert business_seconds_between(spec, april, april + timedelta(hours=12)) == 7 * HOUR
    assert business_seconds_between(spec, october, october + timedelta(hours=12)) == 9 * HOUR
    # And a 7-hour target started at the April shift's start is due at 04:00 EEST
    assert add_business_time(spec, april, 7 * HOUR) == datetime(2026, 4, 24, 4, tzinfo=CAIRO)


def test_cairo_hours_from_a_midnight_that_does_not_exist() -> None:
    # Given Friday hours 00:00-08:00; Friday 24 April 2026 starts at 01:00 EEST
    spec = CalendarSpec("Africa/Cairo", False, hours((FRI,), time(0), time(8)))
    # Then that Friday opens at 01:00 EEST (22:00 UTC on Thursday) and has 7 open hours
    assert next_open(spec, utc(2026, 4, 23, 21)) == utc(2026, 4, 23, 22)
    assert business_seconds_between(spec, utc(2026, 4, 23, 12), utc(2026, 4, 24, 12)) == (
        7 * HOUR
    )


def test_cairo_office_hours_over_a_change_keep_the_office_clock() -> None:
    # Given Sunday-Thursday 09:00-17:00 in Cairo and a case on Thursday 23 April 16:00 EET
    spec = CalendarSpec("Africa/Cairo", False, hours((SUN, MON, TUE, WED, THU), time(9),
                                                     time(17)))
    start = datetime(2026, 4, 23, 16, tzinfo=CAIRO)
    # When 2 hours are due
    due = add_business_time(spec, start, 2 * HOUR)
    # Then it is Sunday 10:00 on the office clock, now EEST (07:00 UTC)
    assert due == utc(2026, 4, 26, 7)
    assert due.astimezone(CAIRO).hour == 10


def test_cairo_hours_ending_at_a_repeated_midnight_count_the_real_elapsed_time() -> None:
    # Given Thursday 23:00-00:00; on 29 October 2026 the clock shows 23:00-24:00 twice
    spec = CalendarSpec("Africa/Cairo", False, hours((THU,), time(23), time(0)))
    # Then the hour opens at 23:00 EEST (20:00 UTC) and closes at midnight EET (22:00 UTC)
    assert next_open(spec, utc(2026, 10, 29, 12)) == utc(2026, 10, 29, 20)
    assert business_seconds_between(spec, utc(2026, 10, 29, 12), utc(2026, 10, 30, 12)) == (
        2 * HOUR
    )


# --- Overnight hours -------------------------------------------------------------------


def test_overnight_hours_run_into_the_next_day() -> None:
    # Given a Monday night shift 22:00-06:00 in Dubai
    spec = CalendarSpec("Asia/Dubai", False, hours((MON,), time(22), time(6)))
    monday_late = datetime(2026, 11, 23, 23, tzinfo=DUBAI)
    # Then 2 hours from Monday 23:00 are due on Tuesday 01:00
    assert add_business_time(spec, monday_late, 2 * HOUR) == datetime(
        2026, 11, 24, 1, tzinfo=DUBAI
    )
    # And from Tuesday 05:00, one hour is left; the second comes the next Monday at 23:00
    assert add_business_time(spec, datetime(2026, 11, 24, 5, tzinfo=DUBAI), 2 * HOUR) == (
        datetime(2026, 11, 30, 23, tzinfo=DUBAI)
    )


def test_an_end_of_midnight_closes_at_the_end_of_the_day() -> None:
    # Given Monday 18:00-00:00
    spec = CalendarSpec("Asia/Dubai", False, hours((MON,), time(18), time(0)))
    start = datetime(2026, 11, 23, 23, tzinfo=DUBAI)
    # Then the last open hour is due at Tuesday 00:00, and Tuesday itself is closed
    assert add_business_time(spec, start, HOUR) == datetime(2026, 11, 24, 0, tzinfo=DUBAI)
    assert not is_open(spec, datetime(2026, 11, 24, 0, tzinfo=DUBAI))
    assert is_open(spec, datetime(2026, 11, 23, 23, 59, tzinfo=DUBAI))


def test_overlapping_hours_count_once() -> None:
    # Given Monday 22:00-06:00 and Tuesday 00:00-08:00, which overlap from 00:00 to 06:00
    spec = CalendarSpec(
        "Asia/Dubai", False, {MON: [(time(22), time(6))], TUE: [(time(0), time(8))]}
    )
    monday = datetime(2026, 11, 23, 12, tzinfo=DUBAI)
    # Then the night has 10 open hours, not 16
    assert business_seconds_between(spec, monday, monday + timedelta(days=1)) == 10 * HOUR
    # And the walk shows one open stretch from 22:00 to 08:00
    opened = [s for s in explain(spec, monday, monday + timedelta(days=1)) if s.counted]
    assert [(s.start, s.end) for s in opened] == [
        (datetime(2026, 11, 23, 22, tzinfo=DUBAI), datetime(2026, 11, 24, 8, tzinfo=DUBAI))
    ]


# --- Holidays ----------------------------------------------------------------------------


def test_uae_national_day_is_skipped() -> None:
    # Given the Gulf office with the UAE's national holidays for 2026 (National Day on
    # Wednesday 2 December and Thursday 3 December)
    spec = CalendarSpec(
        "Asia/Dubai", False, GULF_OFFICE.weekly, national_holidays("AE", "", 2026)
    )
    tuesday = datetime(2026, 12, 1, 16, tzinfo=DUBAI)
    # When 2 hours are due from Tuesday 16:00
    due = add_business_time(spec, tuesday, 2 * HOUR)
    # Then they skip the two holidays and the weekend: Sunday 6 December, 09:00
    assert due == datetime(2026, 12, 6, 9, tzinfo=DUBAI)
    # And the walk names the holiday and the weekend
    reasons = [(s.start.date(), s.reason) for s in explain(spec, tuesday, due)]
    assert reasons == [
        (date(2026, 12, 1), "open"),
        (date(2026, 12, 1), "closed"),
        (date(2026, 12, 2), "holiday: National Day"),
        (date(2026, 12, 4), "weekend"),
        (date(2026, 12, 6), "closed"),
        (date(2026, 12, 6), "open"),
    ]


def test_a_fixed_holiday_closes_the_whole_local_day_even_overnight_hours() -> None:
    # Given a London office with a fixed holiday on Thursday 24 December, and a Wednesday
    # night shift that runs into it
    weekly = dict(LONDON_OFFICE.weekly)
    weekly[WED] = [(time(9), time(18)), (time(22), time(2))]
    spec = CalendarSpec("Europe/London", False, weekly, {date(2026, 12, 24): "Office party"})
    wednesday = datetime(2026, 12, 23, 12, tzinfo=LONDON)
    # Then Wednesday counts 6 + 2 hours, the night shift stops at midnight, Thursday is
    # closed, and Friday 25 December is an ordinary working day in this calendar
    assert business_seconds_between(spec, wednesday, wednesday + timedelta(days=1)) == (
        8 * HOUR
    )
    assert add_business_time(spec, wednesday, 9 * HOUR) == datetime(
        2026, 12, 25, 10, tzinfo=LONDON
    )
    names = {s.reason for s in explain(spec, wednesday, wednesday + timedelta(days=2))}
    assert "holiday: Office party" in names


def test_a_holiday_list_covering_a_whole_week_skips_the_week() -> None:
    # Given every working day from 21 to 25 December 2026 is a holiday
    closed_week = {date(2026, 12, 21) + timedelta(days=n): "Winter break" for n in range(5)}
    spec = CalendarSpec("Europe/London", False, LONDON_OFFICE.weekly, closed_week)
    friday = datetime(2026, 12, 18, 17, tzinfo=LONDON)
    # Then 2 hours from Friday 17:00 are due on Monday 28 December at 10:00
    assert add_business_time(spec, friday, 2 * HOUR) == datetime(
        2026, 12, 28, 10, tzinfo=LONDON
    )
    # And the walk shows the break as one stretch
    reasons = [s.reason for s in explain(spec, friday, friday + timedelta(days=10))]
    assert reasons.count("holiday: Winter break") == 1


def test_a_plain_set_of_holiday_dates_is_accepted() -> None:
    spec = CalendarSpec("Europe/London", False, LONDON_OFFICE.weekly, {date(2026, 12, 24)})
    assert spec.holiday_names == {date(2026, 12, 24): "Holiday"}
    assert not is_open(spec, datetime(2026, 12, 24, 12, tzinfo=LONDON))


# --- The explanation -------------------------------------------------------------------


def test_explain_covers_the_range_without_gaps_and_counts_what_the_due_time_counts() -> None:
    # Given the Standard plan's 96-hour Question target in the Gulf office
    due = add_business_time(GULF_OFFICE, GULF_START, 96 * HOUR)
    # When the walk is explained
    segments = explain(GULF_OFFICE, GULF_START, due)
    # Then it starts at the start, ends at the due time, in Dubai's zone, without gaps
    assert segments[0].start == GULF_START and segments[-1].end == due
    assert all(s.start.tzinfo is DUBAI for s in segments)
    assert all(a.end == b.start for a, b in zip(segments, segments[1:], strict=False))
    # And its counted hours are the target
    assert sum(s.seconds for s in segments if s.counted) == 96 * HOUR
    assert {s.reason for s in segments} == {"open", "closed", "weekend"}


# --- Bad calendars and bad input -------------------------------------------------------


def test_an_unknown_time_zone_is_refused_with_its_name() -> None:
    with pytest.raises(InvalidCalendar, match='"Asia/Atlantis" is not a time zone'):
        CalendarSpec("Asia/Atlantis", False)
    # InvalidCalendar is a ValueError, for callers that only know that
    with pytest.raises(ValueError, match="IANA name"):
        sla_calendar.get_zone("../../etc/passwd")


def test_an_unknown_country_or_subdivision_is_refused() -> None:
    with pytest.raises(InvalidCalendar, match='"XX" is not a country code'):
        check_country("XX")
    with pytest.raises(InvalidCalendar, match='GB has no subdivision "ZZ"'):
        national_holidays("GB", "ZZ", 2026)
    check_country("EG")
    check_country("GB", "SCT")


def test_a_calendar_that_never_opens_cannot_give_a_due_time() -> None:
    # Given a calendar with no weekly hours, and one where every day is a holiday
    no_hours = CalendarSpec("Asia/Dubai", False)
    all_holidays = CalendarSpec(
        "Asia/Dubai", False, GULF_OFFICE.weekly,
        {date(2026, 1, 1) + timedelta(days=n): "Closed" for n in range(800)},
    )
    start = utc(2026, 1, 1)
    for spec in (no_hours, all_holidays):
        # Then adding time and asking for the next opening say so
        with pytest.raises(ClosedCalendarError, match="no open hours"):
            add_business_time(spec, start, HOUR)
        with pytest.raises(ClosedCalendarError):
            next_open(spec, start)
        # And counting time over a range is simply zero
        assert business_seconds_between(spec, start, start + timedelta(days=30)) == 0


def test_naive_datetimes_and_negative_times_are_refused() -> None:
    naive = datetime(2026, 11, 19, 15)  # noqa: DTZ001 (the point of the test)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(GULF_OFFICE, naive, HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_seconds_between(GULF_OFFICE, GULF_START, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        explain(GULF_OFFICE, naive, GULF_START)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(GULF_OFFICE, GULF_START, -1)


def test_malformed_hours_are_refused() -> None:
    with pytest.raises(InvalidCalendar, match="Weekday 7"):
        CalendarSpec("UTC", False, {7: [(time(9), time(17))]})
    with pytest.raises(InvalidCalendar, match="local times"):
        CalendarSpec("UTC", False, {0: [(time(9, tzinfo=UTC), time(17))]})


# --- Cost -------------------------------------------------------------------------------


def test_ninety_six_hours_cost_a_walk_over_days_not_minutes() -> None:
    # Given a London office with the UK's holidays, and no cached days
    spec = CalendarSpec(
        "Europe/London", False, LONDON_OFFICE.weekly, national_holidays("GB", "ENG", 2026)
    )
    starts = [utc(2026, 12, 1) + timedelta(minutes=37 * n) for n in range(200)]
    sla_calendar._day_intervals.cache_clear()
    # When 200 due times of 96 business hours are computed (each crosses two weekends
    # and, for the later ones, Christmas)
    began = stopwatch.perf_counter()
    for start in starts:
        add_business_time(spec, start, 96 * HOUR)
    elapsed = stopwatch.perf_counter() - began
    # Then it takes a fraction of a second (about 2 ms here; a minute-by-minute walk over
    # ~15 days would step 20,000 times per due time)
    assert elapsed < 1.0
