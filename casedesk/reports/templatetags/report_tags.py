"""How a report cell reads on the page (the CSV keeps the plain numbers)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def minutes_text(value: float) -> str:
    """45.5 min; 2 h 05 min; 3 d 4 h."""
    if value < 60:
        return _("%(minutes)s min") % {"minutes": f"{value:g}"}
    whole = round(value)
    hours, rest = divmod(whole, 60)
    if hours < 48:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": f"{rest:02d}"}
    days, hours = divmod(hours, 24)
    return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}


@register.filter
def cell(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "count":
        return f"{value:,}"
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "minutes":
        return minutes_text(float(value))
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    return str(value)
