"""The SLA cells of the case pages."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from casedesk.sla.display import MINUTE_FORMAT, TimeLeft, time_left_html

register = template.Library()


@register.simple_tag
def time_left(sla: TimeLeft | None) -> SafeString:
    """sla/_time_left.html (without show_label) written out: its date filter parsed the
    format and its blocktranslate rendered a template per clock, on every case page for
    each of the case's clocks (casedesk/sla/tests/test_time_left_tag.py keeps them equal)."""
    # Safe: time_left_html escapes every value.
    return mark_safe(time_left_html(sla, gettext(MINUTE_FORMAT)))  # noqa: S308
