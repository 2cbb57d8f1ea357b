"""How a report cell reads on the page (the CSV keeps the plain numbers)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template

register = template.Library()


def minutes_text(value: float) -> str:
    """45.5 min; 2 h 05 min; 3 d 4 h."""
    if value < 60:
        return f"{value:g} min"
    whole = round(value)
    hours, rest = divmod(whole, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


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
