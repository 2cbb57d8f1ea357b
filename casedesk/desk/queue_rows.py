"""The queue's table rows, written in Python: one <tr> per case.

desk/queue.html wrote the same HTML (casedesk/desk/tests/test_queue_rows.py keeps the two
equal), with an include of sla/_time_left.html per row; its tags, lookups, URL and
translations for 25 rows were about half of the queue page's template time. Here each
word is translated once per page and each row is one formatted string.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from casedesk.core.paths import path_for
from casedesk.desk.templatetags.desk_tags import ago
from casedesk.sla.display import MINUTE_FORMAT, time_left_html
from casedesk.tickets.models import Ticket


def queue_rows(tickets: Sequence[Ticket], view: str, select_all: bool) -> SafeString:
    """The <tr> of each case, as desk/queue.html wrote them."""
    fmt = gettext(MINUTE_FORMAT)
    unassigned = f'<span class="muted">{escape(gettext("Unassigned"))}</span>'
    no_organization = escape(gettext("No organization"))
    checked = " checked" if select_all else ""
    parts = []
    for t in tickets:
        pk = t.pk
        url = escape(path_for("desk:case", pk))
        if t.organization_id is not None and t.organization:
            organization: str = escape(t.organization.name)
        elif t.organization_name_given:
            organization = gettext("%(name)s (typed)") % {
                "name": escape(t.organization_name_given)}
        else:
            organization = no_organization
        assignee = escape(t.assignee.get_full_name()) if t.assignee else unassigned
        escalated = ""
        if view == "escalated":
            at = getattr(t, "escalated_at", None)
            shown = ago(at) if at else '<span class="muted">—</span>'
            escalated = f'<td class="nowrap escalated">{shown}</td>'
        select = gettext("Select case %(id)s") % {"id": pk}
        parts.append(
            f"\n      <tr>\n"
            f'        <td class="pick"><input type="checkbox" name="case" value="{pk}" '
            f'id="pick-{pk}" aria-label="{select}"{checked}></td>\n'
            f'        <td class="num"><a href="{url}">{pk}</a></td>\n'
            f'        <td class="subject"><a href="{url}"><bdi>{escape(t.subject)}</bdi></a></td>\n'
            f'        <td class="who">{escape(t.requester.get_full_name())}'
            f'<span class="muted small">{organization}</span></td>\n'
            f'        <td><span class="badge prio-{t.priority}">'
            f"{escape(t.get_priority_display())}</span></td>\n"
            f'        <td><span class="badge status-{escape(t.status)}">'
            f"{escape(t.get_status_display())}</span></td>\n"
            f'        <td class="num">{t.escalation_level}</td>\n'
            f'        <td class="nowrap">{assignee}</td>\n'
            f'        <td class="nowrap">{time_left_html(getattr(t, "sla", None), fmt)}</td>\n'
            f"        {escalated}\n"
            "      </tr>\n    "
        )
    # Safe: every value is escaped above; the translations are the page's own text.
    return mark_safe("".join(parts))  # noqa: S308
