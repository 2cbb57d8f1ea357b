"""Small display helpers for the desk's templates."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from casedesk.core.format import day_text, minute_text

register = template.Library()

MINUTE, HOUR, DAY = 60, 3600, 86400


def ago_text(value: datetime, now: datetime | None = None,
             local: datetime | None = None) -> str:
    """"just now", "5 minutes ago", "3 hours ago", "2 days ago", then the date; a time to
    come reads "in 5 minutes", "in 3 hours", "in 2 days". In the active language, with its
    plural forms (Arabic has six), and the date in the active time zone (`local`: `value`
    already in it)."""
    seconds = int(((now or timezone.now()) - value).total_seconds())
    if abs(seconds) < MINUTE:
        return gettext("just now")
    if abs(seconds) >= 7 * DAY:
        return day_text(local or timezone.localtime(value))
    span = abs(seconds)
    unit, size = ("minute", MINUTE) if span < HOUR else ("hour", HOUR) if span < DAY else (
        "day", DAY)
    return _relative(get_language(), unit, span // size, seconds < 0)


@lru_cache(maxsize=1024)
def _relative(language: str | None, unit: str, n: int, to_come: bool) -> str:
    """"5 minutes ago" or "in 5 minutes" in `language` (the active one): the same few
    hundred texts, each translated once (ngettext per date was most of ago's time)."""
    if to_come:
        if unit == "minute":
            return ngettext("in %(count)s minute", "in %(count)s minutes", n) % {"count": n}
        if unit == "hour":
            return ngettext("in %(count)s hour", "in %(count)s hours", n) % {"count": n}
        return ngettext("in %(count)s day", "in %(count)s days", n) % {"count": n}
    if unit == "minute":
        return ngettext("%(count)s minute ago", "%(count)s minutes ago", n) % {"count": n}
    if unit == "hour":
        return ngettext("%(count)s hour ago", "%(count)s hours ago", n) % {"count": n}
    return ngettext("%(count)s day ago", "%(count)s days ago", n) % {"count": n}


@register.filter
def ago(value: datetime | None) -> SafeString | str:
    """A <time> element: relative text, the exact time (in the reader's time zone, month
    names in their language) on hover."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    # Safe: the ISO time has no markup characters; the two texts are escaped.
    return mark_safe(  # noqa: S308
        f'<time datetime="{value.isoformat()}" title="{escape(minute_text(local))}">'
        f"{escape(ago_text(value, local=local))}</time>"
    )


@register.simple_tag
def thread_items(thread: Any, ticket_pk: int, fresh: Any, inline_types: Any) -> SafeString:
    """The case page's messages, one <li> each (casedesk.desk.thread)."""
    from casedesk.desk.thread import thread_html

    return thread_html(thread, ticket_pk, fresh, inline_types)


@register.simple_tag
def queue_rows(tickets: Any, view: str, select_all: bool) -> SafeString:
    """The queue's rows, one <tr> per case (casedesk.desk.queue_rows)."""
    from casedesk.desk.queue_rows import queue_rows as rows

    return rows(tickets, view, select_all)


@register.simple_tag
def history_items(lines: Any) -> SafeString:
    """The case history's <li>s (casedesk.desk.history.Line): a template loop over a case's
    thirty-odd events cost more than writing them out."""
    # Safe: the kind and text are escaped, ago() escapes its own.
    return mark_safe("".join(  # noqa: S308
        f'<li class="event-{escape(line.kind)}">{escape(line.text)} '
        f'<span class="when">{ago(line.at)}</span></li>' for line in lines
    ))
