"""Small display helpers for the desk's templates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

register = template.Library()

MINUTE, HOUR, DAY = 60, 3600, 86400


def ago_text(value: datetime, now: datetime | None = None) -> str:
    """"just now", "5 minutes ago", "3 hours ago", "2 days ago", then the date; a time to
    come reads "in 5 minutes", "in 3 hours", "in 2 days". In the active language, with its
    plural forms (Arabic has six), and the date in the active time zone."""
    seconds = int(((now or timezone.now()) - value).total_seconds())
    if abs(seconds) < MINUTE:
        return gettext("just now")
    if abs(seconds) >= 7 * DAY:
        return dateformat.format(timezone.localtime(value), "j M Y")
    if seconds > 0:
        if seconds < HOUR:
            n = seconds // MINUTE
            return ngettext("%(count)s minute ago", "%(count)s minutes ago", n) % {"count": n}
        if seconds < DAY:
            n = seconds // HOUR
            return ngettext("%(count)s hour ago", "%(count)s hours ago", n) % {"count": n}
        n = seconds // DAY
        return ngettext("%(count)s day ago", "%(count)s days ago", n) % {"count": n}
    ahead = -seconds
    if ahead < HOUR:
        n = ahead // MINUTE
        return ngettext("in %(count)s minute", "in %(count)s minutes", n) % {"count": n}
    if ahead < DAY:
        n = ahead // HOUR
        return ngettext("in %(count)s hour", "in %(count)s hours", n) % {"count": n}
    n = ahead // DAY
    return ngettext("in %(count)s day", "in %(count)s days", n) % {"count": n}


@register.filter
def ago(value: datetime | None) -> SafeString | str:
    """A <time> element: relative text, the exact time (in the reader's time zone, month
    names in their language) on hover."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(), dateformat.format(local, "j M Y, H:i T"), ago_text(value),
    )
