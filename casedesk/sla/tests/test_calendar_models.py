"""Calendars as admins keep them: the models, their validation, and the admin pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.test import Client

from casedesk.conftest import make_agent
from casedesk.sla.calendar import add_business_time, explain, get_zone
from casedesk.sla.models import Calendar, Holiday, WeeklyHours

HOUR = 3600
DUBAI = get_zone("Asia/Dubai")
ADD_URL = "/admin/sla/calendar/add/"
YEARS_2026 = range(2026, 2027)


def gulf_office(**fields: Any) -> Calendar:
    """Sunday-Thursday 08:00-17:00 in Dubai with the UAE's national holidays."""
    calendar = Calendar.objects.create(
        name=fields.pop("name", "Gulf office"), time_zone="Asia/Dubai", always_open=False,
        country_holidays="AE", **fields,
    )
    for weekday in (6, 0, 1, 2, 3):
        WeeklyHours.objects.create(calendar=calendar, weekday=weekday, start=time(8),
                                   end=time(17))
    return calendar


def test_a_stored_calendar_gives_due_times_that_skip_national_and_fixed_holidays(
    db: Any,
) -> None:
    # Given the Gulf office with the UAE's holidays and a fixed company holiday on
    # Sunday 6 December 2026
    calendar = gulf_office()
    Holiday.objects.create(calendar=calendar, date=date(2026, 12, 6), name="Company day")
    spec = calendar.spec(YEARS_2026)
    # When 2 hours are due from Tuesday 1 December, 16:00
    start = datetime(2026, 12, 1, 16, tzinfo=DUBAI)
    due = add_business_time(spec, start, 2 * HOUR)
    # Then National Day (2-3 December), the weekend and the company day are skipped
    assert due == datetime(2026, 12, 7, 9, tzinfo=DUBAI)
    reasons = {segment.reason for segment in explain(spec, start, due)}
    assert {"holiday: National Day", "holiday: Company day", "weekend"} <= reasons


def test_a_fixed_holiday_on_a_national_holiday_keeps_both_names(db: Any) -> None:
    calendar = gulf_office()
    Holiday.objects.create(calendar=calendar, date=date(2026, 12, 2), name="Office closed")
    spec = calendar.spec(YEARS_2026)
    assert spec.holiday_names[date(2026, 12, 2)] == "National Day; Office closed"


def test_national_holidays_cover_the_years_asked_for(db: Any) -> None:
    calendar = gulf_office()
    assert date(2027, 12, 2) not in calendar.spec(YEARS_2026).holiday_names
    assert date(2027, 12, 2) in calendar.spec(range(2026, 2028)).holiday_names


def test_an_always_open_calendar_ignores_its_hours(db: Any) -> None:
    # Given a calendar marked always open that still has weekly hours
    calendar = gulf_office(name="Around the clock")
    calendar.always_open = True
    calendar.save()
    start = datetime(2026, 12, 4, 12, tzinfo=DUBAI)  # a Friday
    # Then its due times are plain elapsed time
    due = add_business_time(calendar.spec(), start, 5 * HOUR)
    assert due == datetime(2026, 12, 4, 17, tzinfo=DUBAI)


def test_the_spec_reads_prefetched_hours_and_holidays_without_queries(
    db: Any, django_assert_num_queries: Any
) -> None:
    gulf_office()
    calendar = Calendar.objects.get()
    prefetch_related_objects([calendar], "hours", "fixed_holidays")
    with django_assert_num_queries(0):
        calendar.spec(YEARS_2026)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"time_zone": "Asia/Atlantis"}, "time_zone", '"Asia/Atlantis" is not a time zone'),
        ({"country_holidays": "XX"}, "country_holidays", '"XX" is not a country code'),
        ({"country_holidays": "GB", "subdivision": "ZZ"}, "subdivision",
         'GB has no subdivision "ZZ"'),
        ({"subdivision": "ENG"}, "subdivision", "needs a country"),
    ],
)
def test_bad_fields_are_refused_next_to_the_field(
    db: Any, fields: dict[str, str], field: str, message: str
) -> None:
    calendar = Calendar(name="Bad", **fields)
    with pytest.raises(ValidationError) as raised:
        calendar.full_clean()
    assert message in " ".join(raised.value.message_dict[field])


def test_country_codes_are_accepted_in_lower_case(db: Any) -> None:
    calendar = Calendar(name="Cairo", time_zone="Africa/Cairo", country_holidays="eg")
    calendar.full_clean()
    assert calendar.country_holidays == "EG"


def test_a_stored_calendar_that_never_opens_is_refused(db: Any) -> None:
    # Given a calendar with no weekly hours that is no longer always open
    calendar = Calendar.objects.create(name="Empty", time_zone="Asia/Dubai")
    calendar.always_open = False
    # Then cleaning it says it never opens
    with pytest.raises(ValidationError, match="never open in the next two years"):
        calendar.full_clean()
    # And once it has hours it is accepted
    WeeklyHours.objects.create(calendar=calendar, weekday=0, start=time(22), end=time(6))
    calendar.full_clean()


# --- The admin pages ------------------------------------------------------------------


@pytest.fixture
def admin_client(db: Any) -> Client:
    client = Client()
    client.force_login(make_agent(is_staff=True, is_superuser=True))
    return client


def calendar_form(
    hours: list[tuple[int, str, str]], holidays: Sequence[tuple[str, str]] = (), **fields: str
) -> dict[str, str]:
    data = {
        "name": "Gulf office", "time_zone": "Asia/Dubai", "country_holidays": "AE",
        "subdivision": "",
        "hours-TOTAL_FORMS": str(len(hours)), "hours-INITIAL_FORMS": "0",
        "hours-MIN_NUM_FORMS": "0", "hours-MAX_NUM_FORMS": "1000",
        "fixed_holidays-TOTAL_FORMS": str(len(holidays)), "fixed_holidays-INITIAL_FORMS": "0",
        "fixed_holidays-MIN_NUM_FORMS": "0", "fixed_holidays-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for n, (weekday, start, end) in enumerate(hours):
        data |= {f"hours-{n}-weekday": str(weekday), f"hours-{n}-start": start,
                 f"hours-{n}-end": end}
    for n, (day, name) in enumerate(holidays):
        data |= {f"fixed_holidays-{n}-date": day, f"fixed_holidays-{n}-name": name}
    return data | fields


def test_an_admin_creates_a_calendar_with_hours_and_holidays(admin_client: Client) -> None:
    # When an admin saves a new calendar with hours and a holiday in one form
    form = calendar_form(
        [(weekday, "08:00", "17:00") for weekday in (6, 0, 1, 2, 3)],
        [("2026-12-24", "Year-end closing")],
    )
    response = admin_client.post(ADD_URL, form)
    # Then it is saved, with them
    assert response.status_code == 302
    calendar = Calendar.objects.get(name="Gulf office")
    assert not calendar.always_open
    assert calendar.hours.count() == 5
    assert calendar.spec(YEARS_2026).holiday_names[date(2026, 12, 24)] == "Year-end closing"


def test_the_admin_refuses_a_calendar_that_never_opens(admin_client: Client) -> None:
    # When an admin saves a calendar that is not always open and has no hours
    response = admin_client.post(ADD_URL, calendar_form([]))
    # Then the form says why and nothing is saved
    assert response.status_code == 200
    assert "never open in the next two years" in response.content.decode()
    assert not Calendar.objects.exists()


def test_the_admin_refuses_an_unknown_time_zone_and_country(admin_client: Client) -> None:
    response = admin_client.post(
        ADD_URL,
        calendar_form([(0, "09:00", "17:00")], time_zone="Europe/Atlantis",
                      country_holidays="QQ"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "&quot;Europe/Atlantis&quot; is not a time zone" in page
    assert "&quot;QQ&quot; is not a country code" in page
    assert not Calendar.objects.exists()


def test_the_admin_can_switch_a_calendar_from_24_7_to_hours_in_one_save(
    admin_client: Client,
) -> None:
    # Given an always-open calendar with no hours
    calendar = Calendar.objects.create(name="Gulf office", time_zone="Asia/Dubai")
    # When the admin unticks Always open and adds hours in the same form
    response = admin_client.post(
        f"/admin/sla/calendar/{calendar.pk}/change/",
        calendar_form([(0, "09:00", "17:00")]),
    )
    # Then it is saved (the check uses the hours being submitted, not the stored ones)
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert not calendar.always_open
    assert calendar.hours.count() == 1


def test_the_admin_refuses_deleting_the_last_hours(admin_client: Client) -> None:
    # Given a calendar with one interval
    calendar = gulf_office()
    calendar.hours.exclude(weekday=0).delete()
    interval = calendar.hours.get()
    # When the admin deletes it in the inline
    form = calendar_form([]) | {
        "hours-TOTAL_FORMS": "1", "hours-INITIAL_FORMS": "1", "hours-0-id": str(interval.pk),
        "hours-0-calendar": str(calendar.pk), "hours-0-weekday": "0",
        "hours-0-start": "08:00", "hours-0-end": "17:00", "hours-0-DELETE": "on",
    }
    response = admin_client.post(f"/admin/sla/calendar/{calendar.pk}/change/", form)
    # Then the form refuses and the interval stays
    assert response.status_code == 200
    assert "never open in the next two years" in response.content.decode()
    assert calendar.hours.count() == 1
