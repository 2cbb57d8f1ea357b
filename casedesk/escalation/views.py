"""The portal's Escalate a Ticket pages: the widget (also on the home page, which posts
here), the visitors' neutral answer, and the emailed confirmation link.

The desk's escalation forms live with the desk's case page (casedesk.desk.views).
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casedesk.accounts.models import User
from casedesk.core.net import client_address
from casedesk.tickets.models import Ticket

from .actions import EscalationRefused, check_escalation
from .forms import WidgetForm
from .models import Escalation, level_label
from .widget import (
    LinkInvalid,
    NotYourCase,
    RateLimited,
    confirm_request,
    find_request,
    request_by_contact,
    request_by_visitor,
)


def _see_other(url: str) -> HttpResponseRedirect:
    # 303: the browser follows the POST with a GET, so reloading never sends twice.
    return HttpResponseRedirect(url, status=303)


def done_message(escalation: Escalation) -> str:
    values = {"id": escalation.ticket_id, "level": level_label(escalation.to_level)}
    if escalation.assigned_to is not None:
        return _(
            "Case %(id)s is escalated to level %(level)s. %(name)s is now handling it. "
            "We have emailed you the details."
        ) % {**values, "name": escalation.assigned_to.get_short_name()}
    return _(
        "Case %(id)s is escalated to level %(level)s. We have emailed you the details."
    ) % values


@require_http_methods(["GET", "POST"])
def widget(request: HttpRequest) -> HttpResponse:
    user = request.user
    signed_in = user.is_authenticated
    if request.method != "POST":
        return render(request, "escalation/widget.html", {
            "form": WidgetForm(signed_in=signed_in, initial=_initial(request)),
        })
    form = WidgetForm(request.POST, signed_in=signed_in)
    if not form.is_valid():
        return render(request, "escalation/widget.html", {"form": form})
    data = form.cleaned_data
    if not signed_in:
        request_by_visitor(
            case_id=data["case_id"], email=data["email"], reason=data["reason"],
            ip=client_address(request) or None,
        )
        return _see_other(reverse("escalation:sent"))
    person: User = user  # type: ignore[assignment]
    if person.is_agent:
        # Agents escalate on the desk, where they can choose the level and see the case.
        if Ticket.objects.filter(pk=data["case_id"]).exists():
            return _see_other(reverse("desk:case", args=[data["case_id"]]) + "#escalate")
        form.add_error("case_id", _("There is no case %(id)s.") % {"id": data["case_id"]})
        return render(request, "escalation/widget.html", {"form": form})
    try:
        escalation = request_by_contact(
            person, case_id=data["case_id"], reason=data["reason"],
            ip=client_address(request) or None,
        )
    except NotYourCase as exc:
        form.add_error("case_id", str(exc))
        return render(request, "escalation/widget.html", {"form": form})
    except RateLimited as exc:
        form.add_error(None, str(exc))
        return render(request, "escalation/widget.html", {"form": form}, status=429)
    except EscalationRefused as exc:
        # The case is theirs: they read why on its page, next to what they can do about it.
        messages.error(request, str(exc))
        return _see_other(reverse("portal:case", args=[data["case_id"]]))
    messages.success(request, done_message(escalation))
    return _see_other(reverse("portal:case", args=[escalation.ticket_id]))


def _initial(request: HttpRequest) -> dict[str, str]:
    # A link such as /escalate/?case=100123 (from the case page) fills in the Case ID.
    case = request.GET.get("case", "").strip()
    return {"case_id": case} if case.isdigit() and len(case) <= 18 else {}


def sent(request: HttpRequest) -> HttpResponse:
    """The one answer every visitor gets, whatever they typed."""
    return render(request, "escalation/sent.html")


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what will happen and a button; POST escalates (once)."""
    try:
        pending = find_request(token)
    except LinkInvalid as exc:
        return _invalid(request, exc)
    ticket = cast(Ticket, pending.ticket)  # find_request returns matched requests only
    if request.method != "POST":
        refusal = ""
        try:
            check_escalation(
                ticket, source=Escalation.Source.PORTAL, actor=ticket.requester
            )
        except EscalationRefused as exc:
            refusal = str(exc)
        return render(request, "escalation/confirm.html", {
            "pending": pending, "ticket": ticket, "refusal": refusal,
        })
    try:
        escalation = confirm_request(token)
    except LinkInvalid as exc:
        return _invalid(request, exc)
    except EscalationRefused as exc:
        return render(request, "escalation/confirm.html", {
            "pending": pending, "ticket": ticket, "refusal": str(exc),
        }, status=409)
    return render(request, "escalation/confirmed.html", {
        "escalation": escalation, "ticket": ticket,
        "level": level_label(escalation.to_level),
    })


def _invalid(request: HttpRequest, error: LinkInvalid) -> HttpResponse:
    return render(
        request, "escalation/link_invalid.html", {"message": str(error)}, status=error.status
    )

