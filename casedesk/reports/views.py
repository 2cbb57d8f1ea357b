"""The reports page, its charts (SVG) and its CSV downloads; agents only.

The page, each chart and each CSV read the same query string (start, end, organization,
plan) through ReportForm, so a chart and its CSV hold exactly the numbers of the table
beside them. A chart or CSV computes only its own section.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from casedesk.accounts.models import User
from casedesk.desk.access import agent_required
from casedesk.reports.forms import PRESETS, ReportForm
from casedesk.reports.queries import SECTIONS, Period, Scope, Table, build, compute
from casedesk.sla.display import viewer_zone

# Charts and CSVs of a period are worth keeping a few minutes (the backlog is "as of now").
CACHE_SECONDS = 300


def _zone(request: HttpRequest) -> ZoneInfo:
    # The agent's own time zone (their profile), else UTC: as every desk page shows times.
    return viewer_zone(cast(User, request.user))


def _form(request: HttpRequest, zone: ZoneInfo) -> ReportForm:
    return ReportForm.from_query(request.GET, timezone.now().astimezone(zone).date())


@agent_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    zone = _zone(request)
    form = _form(request, zone)
    today = timezone.now().astimezone(zone).date()
    context: dict[str, Any] = {"form": form, "zone": zone.key, "nav_view": "reports"}
    if form.is_valid():
        data = form.cleaned_data
        report = build(data["start"], data["end"], data["organization"], data["plan"],
                       zone=zone)
        query = urlencode(form.query())
        context.update(report=report, query=query, sections=[
            {"table": table,
             "chart_url": f"{reverse('reports:chart', args=[slug])}?{query}",
             "csv_url": f"{reverse('reports:csv', args=[slug])}?{query}"}
            for slug, table in report.sections.items()
        ])
        keep = {k: v for k, v in form.query().items() if k in ("organization", "plan")}
    else:
        keep = {k: request.GET[k] for k in ("organization", "plan") if request.GET.get(k)}
    context["presets"] = [
        (days, "?" + urlencode({
            "start": (today - timedelta(days=days - 1)).isoformat(), "end": today.isoformat(),
            **keep,
        }))
        for days in PRESETS
    ]
    return render(request, "reports/report.html", context,
                  status=200 if form.is_valid() else 400)


def _section(request: HttpRequest, slug: str) -> tuple[Table, Period]:
    if slug not in SECTIONS:
        raise Http404(_("No such report."))
    zone = _zone(request)
    form = _form(request, zone)
    if not form.is_valid():
        # The page shows what is wrong; a chart or a CSV of bad filters is not there.
        raise Http404(_("No report for these filters."))
    data = form.cleaned_data
    period = Period(data["start"], data["end"], zone)
    scope = Scope(data["organization"], data["plan"])
    return compute(slug, period, scope, timezone.now()), period


def _cacheable(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, max_age=CACHE_SECONDS)
    return response


@agent_required
@require_GET
def chart(request: HttpRequest, slug: str) -> HttpResponse:
    # matplotlib loads only in processes that draw (a second's import, ~30 MB).
    from casedesk.reports.charts import render as render_chart

    table, _period = _section(request, slug)
    response = HttpResponse(render_chart(table), content_type="image/svg+xml")
    return _cacheable(response)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A name that a spreadsheet would run as a formula is written as text.
        return "'" + value
    return value


@agent_required
@require_GET
def csv_download(request: HttpRequest, slug: str) -> HttpResponse:
    table, period = _section(request, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"casedesk-{slug}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([column.csv_label for column in table.columns])
    for row in table.all_rows():
        writer.writerow([_csv_cell(value) for value in row])
    return _cacheable(response)
