from datetime import datetime, timedelta
from functools import lru_cache

from django.utils.dates import MONTHS_3
from django.utils.functional import lazy
from django.utils.translation import get_language, ngettext


def duration_text(span: timedelta) -> str:
    """A target as the support process states it: "2 hours", "1 hour", "90 minutes", in
    the active language (wrap it in django.utils.functional.lazy to render it later)."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


# For mail: rendered when the template is, in the recipient's language (mail.actions).
duration_text_lazy = lazy(duration_text, str)


@lru_cache(maxsize=16)
def _months(language: str | None) -> tuple[str, ...]:
    """The month abbreviations of `language` (the active one), as Django's "M" date
    format writes them: 1 is January."""
    return ("", *(str(MONTHS_3[month]).title() for month in range(1, 13)))


def day_text(local: datetime) -> str:
    """`local` as Django's date format "j M Y" writes it ("5 Mar 2026", month in the
    active language). Written out: dateformat.format parses the format on every call, and
    the case page writes about a hundred dates (a third of its template's time)."""
    return f"{local.day} {_months(get_language())[local.month]} {local.year:04d}"


def minute_text(local: datetime) -> str:
    """`local` as Django's date format "j M Y, H:i T" writes it: the zone's abbreviation
    is left out where the local time is ambiguous or skipped (a DST change), as there."""
    zone = local.tzinfo
    name = ""
    if zone is not None and zone.utcoffset(local.replace(fold=not local.fold)) == zone.utcoffset(
        local
    ):
        name = str(zone.tzname(local))
    return f"{day_text(local)}, {local.hour:02d}:{local.minute:02d} {name}"
