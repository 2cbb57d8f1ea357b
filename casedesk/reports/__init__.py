"""Reports for managers: SLA compliance, escalations, backlog, volume, agent activity.

`build(start, end, organization=None, plan=None)` computes every section (no rendering), for
the report pages and for the benchmark that times them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casedesk.reports.queries import Report


def build(*args: Any, **kwargs: Any) -> Report:
    """See casedesk.reports.queries.build (imported here lazily: this package is loaded
    before Django's apps are ready)."""
    from casedesk.reports.queries import build as build_report

    return build_report(*args, **kwargs)
