"""Small display helpers for the desk's templates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


def ago_text(value: datetime, now: datetime | None = None) -> str:
    """"just now", "5 min ago", "3 h ago", "2 days ago", then the date."""
    seconds = int(((now or timezone.now()) - value).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    if seconds < 7 * 86400:
        days = seconds // 86400
        return f"{days} day{'s' if days != 1 else ''} ago"
    return timezone.localtime(value).strftime("%d %b %Y")


@register.filter
def ago(value: datetime | None) -> SafeString | str:
    """A <time> element: relative text, the exact time on hover."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(), local.strftime("%d %b %Y %H:%M %Z"), ago_text(value),
    )
