"""Who is on shift: weekly shifts in the agent's own time zone, across midnight and across
daylight-saving changes (Europe/London, Africa/Cairo), and unknown time zones."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.core.exceptions import ValidationError

from casedesk.conftest import make_agent
from casedesk.escalation.models import Shift, on_shift

pytestmark = pytest.mark.django_db

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def agent_with(zone: str, *shifts: tuple[int, time, time]):
    agent = make_agent(time_zone=zone)
    for weekday, start, end in shifts:
        Shift.objects.create(agent=agent, weekday=weekday, start=start, end=end)
    return agent


def test_a_day_shift_covers_its_hours_in_the_agents_zone_and_nothing_else():
    # Given an agent in Dubai (UTC+4, no daylight saving) who works Mondays 09:00-17:00
    agent = agent_with("Asia/Dubai", (MON, time(9), time(17)))

    # Then Monday 9 March 2026 05:00 UTC (09:00 in Dubai) is the first minute of the shift,
    # 12:59 UTC the last, and 13:00 UTC (17:00) is already off
    assert not on_shift(agent, utc(2026, 3, 9, 4, 59))
    assert on_shift(agent, utc(2026, 3, 9, 5, 0))
    assert on_shift(agent, utc(2026, 3, 9, 12, 59))
    assert not on_shift(agent, utc(2026, 3, 9, 13, 0))
    # And the same hours on Tuesday are not a shift
    assert not on_shift(agent, utc(2026, 3, 10, 8, 0))


def test_a_night_shift_runs_past_midnight_into_the_next_day():
    # Given an agent in UTC who works Fridays 22:00 to 06:00 (the end is before the start)
    agent = agent_with("", (FRI, time(22), time(6)))

    # Then Friday 13 March 2026 at 23:00, and Saturday at 05:59, are on the shift
    assert on_shift(agent, utc(2026, 3, 13, 23, 0))
    assert on_shift(agent, utc(2026, 3, 14, 5, 59))
    # And Saturday at 06:00, Friday at 05:00 (Thursday night is not theirs) are not
    assert not on_shift(agent, utc(2026, 3, 14, 6, 0))
    assert not on_shift(agent, utc(2026, 3, 13, 5, 0))


def test_a_shift_ending_at_its_start_is_a_whole_day():
    agent = agent_with("UTC", (SUN, time(0), time(0)))

    assert on_shift(agent, utc(2026, 3, 15, 0, 0))
    assert on_shift(agent, utc(2026, 3, 15, 23, 59))
    assert not on_shift(agent, utc(2026, 3, 16, 0, 0))


def test_london_night_shift_when_the_clocks_go_back_lasts_nine_hours():
    # Given a London agent on Saturday night 22:00-06:00; on Sunday 25 October 2026 at
    # 02:00 BST the clocks go back to 01:00 GMT
    agent = agent_with("Europe/London", (SAT, time(22), time(6)))

    # Then the shift starts at 22:00 BST = 21:00 UTC and ends at 06:00 GMT = 06:00 UTC
    assert not on_shift(agent, utc(2026, 10, 24, 20, 59))
    assert on_shift(agent, utc(2026, 10, 24, 21, 0))
    assert on_shift(agent, utc(2026, 10, 25, 1, 30))  # 01:30 GMT, the second 01:30
    assert on_shift(agent, utc(2026, 10, 25, 5, 59))
    assert not on_shift(agent, utc(2026, 10, 25, 6, 0))


def test_london_night_shift_when_the_clocks_go_forward_lasts_seven_hours():
    # Given the same shift on Saturday 28 March 2026; at 01:00 GMT on Sunday the clocks
    # jump to 02:00 BST
    agent = agent_with("Europe/London", (SAT, time(22), time(6)))

    # Then it starts at 22:00 GMT = 22:00 UTC and ends at 06:00 BST = 05:00 UTC
    assert not on_shift(agent, utc(2026, 3, 28, 21, 59))
    assert on_shift(agent, utc(2026, 3, 28, 22, 0))
    assert on_shift(agent, utc(2026, 3, 29, 4, 59))
    assert not on_shift(agent, utc(2026, 3, 29, 5, 0))


def test_a_shift_starting_in_the_hour_london_skips_starts_an_hour_later_on_the_new_clock():
    # Given a shift starting at 01:30 on Sunday 29 March 2026, a time London never shows
    # (01:00 GMT jumps to 02:00 BST)
    agent = agent_with("Europe/London", (SUN, time(1, 30), time(9)))

    # Then it starts at 01:30 read with the old offset: 01:30 UTC, i.e. 02:30 BST
    assert not on_shift(agent, utc(2026, 3, 29, 1, 29))
    assert on_shift(agent, utc(2026, 3, 29, 1, 30))
    assert on_shift(agent, utc(2026, 3, 29, 7, 59))  # 08:59 BST
    assert not on_shift(agent, utc(2026, 3, 29, 8, 0))  # 09:00 BST


def test_cairo_shift_across_the_summer_time_start():
    # Given a Cairo agent working Thursday night 20:00-08:00; Egypt's summer time starts
    # at midnight between Thursday 23 and Friday 24 April 2026 (00:00 EET -> 01:00 EEST)
    agent = agent_with("Africa/Cairo", (THU, time(20), time(8)))

    # Then it starts at 20:00 EET = 18:00 UTC and ends at 08:00 EEST = 05:00 UTC: 11 hours
    assert not on_shift(agent, utc(2026, 4, 23, 17, 59))
    assert on_shift(agent, utc(2026, 4, 23, 18, 0))
    assert on_shift(agent, utc(2026, 4, 24, 4, 59))
    assert not on_shift(agent, utc(2026, 4, 24, 5, 0))


def test_cairo_shift_across_the_summer_time_end():
    # Given the same shift; summer time ends at midnight between Thursday 29 and Friday
    # 30 October 2026 (00:00 EEST -> 23:00 EET on Thursday again)
    agent = agent_with("Africa/Cairo", (THU, time(20), time(8)))

    # Then it starts at 20:00 EEST = 17:00 UTC and ends at 08:00 EET = 06:00 UTC: 13 hours
    assert not on_shift(agent, utc(2026, 10, 29, 16, 59))
    assert on_shift(agent, utc(2026, 10, 29, 17, 0))
    assert on_shift(agent, utc(2026, 10, 30, 5, 59))
    assert not on_shift(agent, utc(2026, 10, 30, 6, 0))


def test_an_agent_whose_time_zone_does_not_exist_is_read_in_utc_and_cannot_get_new_shifts():
    # Given an agent whose time zone was mistyped
    agent = agent_with("Asia/Dubia", (MON, time(9), time(17)))

    # Then their shifts are read in UTC rather than failing an escalation
    assert on_shift(agent, utc(2026, 3, 9, 9, 0))
    assert not on_shift(agent, utc(2026, 3, 9, 5, 0))
    # And a new shift for them is refused with a message that says what to fix
    shift = Shift(agent=agent, weekday=TUE, start=time(9), end=time(17))
    with pytest.raises(ValidationError, match="Asia/Dubia.*does not exist"):
        shift.full_clean()


def test_an_agent_without_shifts_is_never_on_shift():
    agent = make_agent()

    assert not on_shift(agent, utc(2026, 3, 9, 12, 0))
