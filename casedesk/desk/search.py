"""The desk's search page, /desk/search/?q=: every case whose subject, messages (internal
notes included: only agents use the desk), requester name or email match, best first, each
with the passage that matches. A search that is an existing Case ID opens that case.

Kept apart from the queue's views: searching is its own page with its own narrowing (by
status), and the index does the work (casedesk.search), not the queue's queries.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from casedesk.desk.access import agent_required
from casedesk.search.cases import find_cases
from casedesk.search.query import MAX_LENGTH, SearchError, case_id, parse
from casedesk.tickets.models import Ticket

OPEN = "open"


class SearchForm(forms.Form):
    # No max_length here: the query parser explains a search that is too long, in words
    # an agent understands, instead of Django's generic message.
    q = forms.CharField(
        label=_("Search cases"), strip=True,
        error_messages={"required": _("Type something to search for.")},
        widget=forms.TextInput(attrs={
            "type": "search", "placeholder": _("Words, a name, an email or a Case ID"),
            "maxlength": MAX_LENGTH, "autofocus": True, "dir": "auto",
        }),
    )
    status = forms.ChoiceField(
        required=False, label=_("Status"),
        choices=[("", _("Any status")), (OPEN, _("Any open status")), *Ticket.Status.choices],
    )

    def scope(self) -> Any:
        status = self.cleaned_data["status"]
        if not status:
            return None
        statuses = Ticket.OPEN_STATUSES if status == OPEN else (status,)
        return Ticket.objects.filter(status__in=statuses)


def _page_number(raw: str | None) -> int:
    # Navigation, not data: anything odd shows the first page.
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 4 else 1


@agent_required(others_to="portal:home")
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET if "q" in request.GET else None)
    found = None
    if form.is_bound and form.is_valid():
        text = form.cleaned_data["q"]
        wanted = case_id(text)
        if wanted is not None and Ticket.objects.filter(pk=wanted).exists():
            return redirect("desk:case", wanted)
        try:
            query = parse(text)
        except SearchError as exc:
            form.add_error("q", str(exc))
        else:
            found = find_cases(
                query, page=_page_number(request.GET.get("page")), scope=form.scope()
            )
    return render(request, "desk/search.html", {"form": form, "found": found})
