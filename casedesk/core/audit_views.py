"""/desk/audit/: the audit history for admins, newest first, filtered, a page at a time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casedesk.core.audit import WATCHED
from casedesk.core.models import AuditEntry
from casedesk.webhooks.views import admin_required

PAGE_SIZE = 50
ACTIONS = [("", _("Any action")), ("create", _("created")), ("change", _("changed")),
           ("delete", _("deleted")), ("revoke", _("revoked"))]


class AuditFilter(forms.Form):
    actor = forms.CharField(label=_("Who (email)"), required=False, max_length=254)
    action = forms.CharField(label=_("Action"), required=False, max_length=40,
                             widget=forms.Select(choices=ACTIONS))
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("“From” must not be after “Until”."))
        return data

    def entries(self) -> QuerySet[AuditEntry]:
        data = self.cleaned_data
        rows = AuditEntry.objects.all()
        if data["actor"]:
            rows = rows.filter(actor_email__iexact=data["actor"].strip())
        if data["action"]:
            rows = rows.filter(action=data["action"])
        if data["object_type"]:
            rows = rows.filter(object_type=data["object_type"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            rows = rows.filter(at__gte=datetime.combine(data["since"], time(), zone))
        if data["until"]:
            end = datetime.combine(data["until"] + timedelta(days=1), time(), zone)
            rows = rows.filter(at__lt=end)
        if data["after"]:
            # Keyset: the page after the last entry shown (ids grow with time), so a page
            # costs the same however far back it is, and new entries never shift it.
            rows = rows.filter(pk__lt=data["after"])
        return rows.order_by("-pk")


@admin_required
def audit_history(request: HttpRequest) -> HttpResponse:
    form = AuditFilter(request.GET or None)
    entries: list[AuditEntry] = []
    next_after = None
    if not request.GET or form.is_valid():
        if not request.GET:
            form = AuditFilter({})
            form.is_valid()
        entries = list(form.entries().select_related("actor")[: PAGE_SIZE + 1])
        if len(entries) > PAGE_SIZE:
            entries = entries[:PAGE_SIZE]
            next_after = entries[-1].pk
    query = request.GET.copy()
    query.pop("after", None)
    known = sorted(set(WATCHED) | set(
        AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct()[:200]
    ))
    return render(request, "core/audit.html", {
        "form": form, "entries": entries, "next_after": next_after,
        "query": query.urlencode(), "object_types": known, "nav_view": "audit",
    })
