"""The report's filters: a period of whole days, and optionally an organization or a plan."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import Organization
from casedesk.reports.queries import MAX_DAYS
from casedesk.sla.models import Plan

DEFAULT_DAYS = 30
PRESETS = (7, 30, 90)


class DateInput(forms.DateInput):
    input_type = "date"


class ReportForm(forms.Form):
    start = forms.DateField(
        label=_("From"), widget=DateInput(format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, such as 2026-03-01."),
                        "required": _("Enter the first day of the report.")},
    )
    end = forms.DateField(
        label=_("To"), widget=DateInput(format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, such as 2026-03-31."),
                        "required": _("Enter the last day of the report.")},
    )
    organization = forms.ModelChoiceField(
        Organization.objects.order_by("name"), required=False, label=_("Organization"),
        empty_label=_("All organizations"),
        error_messages={"invalid_choice": _("There is no such organization: pick one from "
                                            "the list.")},
    )
    plan = forms.ModelChoiceField(
        Plan.objects.order_by("name"), required=False, label=_("Plan"),
        empty_label=_("All plans"),
        error_messages={"invalid_choice": _("There is no such plan: pick one from the list.")},
    )

    @classmethod
    def from_query(cls, query: Any, today: date) -> ReportForm:
        """The form bound to the query string, the last 30 days where it names no dates."""
        data = query.copy()
        if not data.get("start"):
            data["start"] = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        if not data.get("end"):
            data["end"] = today.isoformat()
        return cls(data)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", gettext("The last day is before the first day."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error(
                    "start",
                    gettext("A report covers at most %(days)s days (about three years): "
                            "choose a later first day or an earlier last day.")
                    % {"days": MAX_DAYS},
                )
        return data

    def query(self) -> dict[str, str]:
        """The cleaned filters as query parameters, the same for the page, charts and CSV."""
        data = self.cleaned_data
        query = {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
        if data.get("organization"):
            query["organization"] = str(data["organization"].pk)
        if data.get("plan"):
            query["plan"] = str(data["plan"].pk)
        return query
