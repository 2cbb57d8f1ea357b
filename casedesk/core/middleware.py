"""The reader's language and time zone, for every request.

Django's LocaleMiddleware (settings.MIDDLEWARE, before this one) picks a language from the
`django_language` cookie, then the browser's Accept-Language: that is what a visitor gets.
A signed-in person's saved choice wins over both (their own language, else their
organization's; casedesk.accounts.models.language_for), so a contact who chose Arabic reads
Arabic on any browser. Times are shown in the person's own zone, else their organization's,
else settings.TIME_ZONE.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from casedesk.accounts.models import User, organization_of, saved_language
from casedesk.sla.display import zone_named


def reader_zone(user: User | None) -> ZoneInfo:
    """The zone a person reads times in: their own, else their organization's, else the
    site's (settings.TIME_ZONE)."""
    if user is None:
        return zone_named(settings.TIME_ZONE)
    organization = organization_of(user)
    return zone_named(
        user.time_zone, organization.time_zone if organization else None, settings.TIME_ZONE
    )


class ReaderMiddleware:
    """Activates the signed-in person's language and time zone (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        if user is not None:
            language = saved_language(user)  # type: ignore[arg-type]
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        # Activated on every request, so a thread never keeps the previous reader's zone.
        timezone.activate(reader_zone(user))  # type: ignore[arg-type]
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
