"""The agent desk: a case page, replies and notes, status, priority, assignee.

Views fetch and authorize through casedesk.tickets.access, validate with the forms in
casedesk.desk.forms, and change cases only through casedesk.tickets.actions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.core.downloads import INLINE_IMAGE_TYPES, file_response
from casedesk.core.format import duration_text
from casedesk.desk.access import agent_required
from casedesk.desk.case_reads import case_records
from casedesk.desk.forms import ReplyForm, UpdateForm
from casedesk.desk.history import describe
from casedesk.desk.panels import case_panels, macro_reply_form, merged_redirect
from casedesk.escalation.actions import EscalationRefused, escalate
from casedesk.escalation.forms import EscalateForm, PhoneEscalationForm
from casedesk.escalation.models import Escalation, level_label, level_names
from casedesk.sla.terms import first_response_terms
from casedesk.sla.timeline import page_context as sla_page_context
from casedesk.tickets.access import get_attachment, get_case_for_agent
from casedesk.tickets.actions import (
    ActionError,
    assign,
    change_priority,
    change_status,
)
from casedesk.tickets.models import Ticket

# Types browsers show as a picture, never as a page; any other file is downloaded.


def _see_other(url: str) -> HttpResponseRedirect:
    # 303: the browser follows the POST with a GET, so reloading never sends twice.
    return HttpResponseRedirect(url, status=303)


def _agent(request: HttpRequest) -> User:
    # agent_required has let only signed-in agents through.
    return cast(User, request.user)


def _plan_line(ticket: Ticket) -> dict[str, Any]:
    # The plan and its targets as the SLA clocks read them (kept per process until a plan,
    # target or calendar changes: casedesk.sla.terms).
    plan, is_default, seconds = first_response_terms(ticket)
    return {
        "plan": plan, "plan_is_default": is_default,
        "target_text": duration_text(timedelta(seconds=seconds)) if seconds else "",
    }


def _case_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    update_form: UpdateForm | None = None,
    escalate_form: EscalateForm | None = None,
    phone_form: PhoneEscalationForm | None = None,
    **extra: Any,
) -> HttpResponse:
    records = case_records(ticket)
    thread, events, escalations = records.thread, records.events, records.escalations
    # The levels' names from level_names(), which the page reads anyway (kept a minute):
    # two subqueries per escalation cost more than the rest of the query.
    names = level_names()
    for escalation in escalations:
        escalation.to_name = names.get(escalation.to_level)  # type: ignore[attr-defined]
    level = ticket.escalation_level
    reply_form = reply_form or ReplyForm()
    if not reply_form.is_bound:
        # What this agent has seen: a reply posted after newer messages is stale.
        reply_form.initial["seen"] = max((m.pk for m in thread), default=0)
    return render(request, "desk/case.html", {
        "ticket": ticket,
        "thread": thread,
        "history": describe(events),
        "reply_form": reply_form,
        "update_form": update_form or UpdateForm(ticket=ticket),
        "escalate_form": escalate_form or EscalateForm(current=level),
        "phone_form": phone_form or PhoneEscalationForm(current=level),
        "escalations": escalations,
        "level_name": names.get(level, ""),
        "priority_label": Priority(ticket.priority).label,
        "inline_types": INLINE_IMAGE_TYPES,
        **_plan_line(ticket),
        **sla_page_context(ticket, request.user, customer=False, events=events),
        **case_panels(request, ticket, _agent(request), thread),
        **extra,
    })


@agent_required
@require_GET
def case(request: HttpRequest, case_id: str) -> HttpResponse:
    agent = _agent(request)
    ticket = get_case_for_agent(agent, case_id)
    if ticket.merged_into_id is not None and "history" not in request.GET:
        return merged_redirect(request, ticket)
    return _case_page(request, ticket, reply_form=macro_reply_form(request, ticket, agent))


def _case_url(ticket: Ticket, anchor: str = "") -> str:
    return reverse("desk:case", args=[ticket.pk]) + (f"#{anchor}" if anchor else "")


@agent_required
def update(request: HttpRequest, case_id: str) -> HttpResponse:
    ticket = get_case_for_agent(_agent(request), case_id)
    if request.method != "POST":
        return redirect(_case_url(ticket))
    form = UpdateForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return _case_page(request, ticket, update_form=form)
    changed = form.changed_data
    if not changed:
        messages.info(request, gettext("Nothing to save: no field was changed."))
        return _see_other(_case_url(ticket))
    data = form.cleaned_data
    agent = _agent(request)
    try:
        # All or nothing: if one change is refused, the others are rolled back too.
        with transaction.atomic():
            if "status" in changed:
                change_status(ticket.pk, agent, data["status"])
            if "priority" in changed:
                change_priority(ticket.pk, agent, data["priority"])
            if "assignee" in changed:
                assign(ticket.pk, agent, data["assignee"])
    except ActionError as exc:
        messages.error(request, gettext("Nothing was saved: %(problem)s") % {"problem": exc})
        return _see_other(_case_url(ticket))
    done = []
    if "status" in changed:
        done.append(gettext("status %(status)s") % {"status": Ticket.Status(data["status"]).label})
    if "priority" in changed:
        done.append(gettext("priority %(priority)s") % {
            "priority": Priority(data["priority"]).label})
    if "assignee" in changed:
        assignee = data["assignee"]
        done.append(gettext("assignee %(name)s") % {"name": assignee.get_full_name()}
                    if assignee else gettext("unassigned"))
    messages.success(request, gettext("Saved: %(changes)s.") % {
        "changes": gettext(", ").join(done)})
    return _see_other(_case_url(ticket))


@agent_required
@require_GET
def attachment(
    request: HttpRequest, case_id: str, attachment_id: int, filename: str
) -> HttpResponseBase:
    """A file of the case, internal notes' files included (agents see those)."""
    ticket = get_case_for_agent(_agent(request), case_id)
    stored = get_attachment(ticket, attachment_id, public_only=False)
    response = file_response(
        stored.file, content_type=stored.content_type, filename=stored.filename,
        cache_control="private, max-age=3600",
    )
    return response


def _escalated(request: HttpRequest, escalation: Escalation) -> None:
    level = level_label(escalation.to_level)
    if escalation.assigned_to is not None:
        text = gettext("Escalated to level %(level)s; assigned to %(name)s.") % {
            "level": level, "name": escalation.assigned_to.get_full_name()}
    else:
        text = gettext(
            "Escalated to level %(level)s; NOBODY ON SHIFT: the case is unassigned and the "
            "level's contacts are alerted."
        ) % {"level": level}
    if escalation.nobody_on_shift:
        messages.warning(request, text)
    else:
        messages.success(request, text)


@agent_required
def escalate_case(request: HttpRequest, case_id: str) -> HttpResponse:
    """An agent escalates: to the next level, or to any level on purpose."""
    ticket = get_case_for_agent(_agent(request), case_id)
    if request.method != "POST":
        return redirect(_case_url(ticket, "escalate"))
    form = EscalateForm(request.POST, current=ticket.escalation_level)
    if not form.is_valid():
        return _case_page(request, ticket, escalate_form=form)
    try:
        escalation = escalate(
            ticket.pk, source=Escalation.Source.AGENT, reason=form.cleaned_data["reason"],
            actor=_agent(request), to_level=form.cleaned_data["to_level"],
        )
    except EscalationRefused as exc:
        # Shown above the form, with what the agent typed still in it.
        form.add_error(None, str(exc))
        return _case_page(request, ticket, escalate_form=form)
    _escalated(request, escalation)
    return _see_other(_case_url(ticket, "escalate"))


@agent_required
def phone_escalation(request: HttpRequest, case_id: str) -> HttpResponse:
    """An agent logs a customer's call asking to escalate."""
    ticket = get_case_for_agent(_agent(request), case_id)
    if request.method != "POST":
        return redirect(_case_url(ticket, "escalate"))
    form = PhoneEscalationForm(request.POST, current=ticket.escalation_level)
    if not form.is_valid():
        return _case_page(request, ticket, phone_form=form)
    data = form.cleaned_data
    try:
        escalation = escalate(
            ticket.pk, source=Escalation.Source.PHONE, reason=data["reason"],
            actor=_agent(request), to_level=data["to_level"],
            caller_name=data["caller_name"], caller_phone=data["caller_phone"],
        )
    except EscalationRefused as exc:
        form.add_error(None, str(exc))
        return _case_page(request, ticket, phone_form=form)
    _escalated(request, escalation)
    return _see_other(_case_url(ticket, "escalate"))
