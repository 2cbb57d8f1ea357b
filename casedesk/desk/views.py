"""The agent desk: a case page, replies and notes, status, priority, assignee.

Views fetch and authorize through casedesk.tickets.access, validate with the forms in
casedesk.desk.forms, and change cases only through casedesk.tickets.actions.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.core.downloads import INLINE_IMAGE_TYPES, file_response
from casedesk.core.format import duration_text
from casedesk.desk.access import agent_required
from casedesk.desk.forms import ReplyForm, UpdateForm
from casedesk.desk.history import describe
from casedesk.escalation.actions import EscalationRefused, escalate
from casedesk.escalation.forms import EscalateForm, PhoneEscalationForm
from casedesk.escalation.models import Escalation, level_label, level_names, with_level_names
from casedesk.sla.models import Plan
from casedesk.sla.timeline import page_context as sla_page_context
from casedesk.tickets.access import get_attachment, get_case_for_agent
from casedesk.tickets.actions import (
    ActionError,
    add_message,
    assign,
    change_priority,
    change_status,
)
from casedesk.tickets.models import Message, Ticket

# Types browsers show as a picture, never as a page; any other file is downloaded.


def _see_other(url: str) -> HttpResponseRedirect:
    # 303: the browser follows the POST with a GET, so reloading never sends twice.
    return HttpResponseRedirect(url, status=303)


def _agent(request: HttpRequest) -> User:
    # agent_required has let only signed-in agents through.
    return cast(User, request.user)


def _plan_line(ticket: Ticket) -> dict[str, Any]:
    organization = ticket.organization
    plan = organization.plan if organization and organization.plan_id else None
    is_default = plan is None
    plan = plan or Plan.default()
    target = plan.first_response_target(ticket.priority) if plan else None
    return {
        "plan": plan, "plan_is_default": is_default,
        "target_text": duration_text(target) if target else "",
    }


def _case_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    update_form: UpdateForm | None = None,
    escalate_form: EscalateForm | None = None,
    phone_form: PhoneEscalationForm | None = None,
) -> HttpResponse:
    thread = list(
        Message.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    events = ticket.events.select_related("actor").order_by("created_at", "pk")
    escalations = with_level_names(
        Escalation.objects.filter(ticket=ticket).select_related("actor", "assigned_to")
    ).order_by("created_at", "pk")
    level = ticket.escalation_level
    return render(request, "desk/case.html", {
        "ticket": ticket,
        "thread": thread,
        "history": describe(events),
        "reply_form": reply_form or ReplyForm(),
        "update_form": update_form or UpdateForm(ticket=ticket),
        "escalate_form": escalate_form or EscalateForm(current=level),
        "phone_form": phone_form or PhoneEscalationForm(current=level),
        "escalations": escalations,
        "level_name": level_names().get(level, ""),
        "priority_label": Priority(ticket.priority).label,
        "inline_types": INLINE_IMAGE_TYPES,
        **_plan_line(ticket),
        **sla_page_context(ticket, request.user, customer=False),
    })


@agent_required
@require_GET
def case(request: HttpRequest, case_id: str) -> HttpResponse:
    return _case_page(request, get_case_for_agent(_agent(request), case_id))


def _case_url(ticket: Ticket, anchor: str = "") -> str:
    return reverse("desk:case", args=[ticket.pk]) + (f"#{anchor}" if anchor else "")


@agent_required
def reply(request: HttpRequest, case_id: str) -> HttpResponse:
    ticket = get_case_for_agent(_agent(request), case_id)
    if request.method != "POST":
        # Someone who signed in from a reply link lands on the case, not on an error.
        return redirect(_case_url(ticket))
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _case_page(request, ticket, reply_form=form)
    data = form.cleaned_data
    try:
        message = add_message(
            ticket.pk, _agent(request), data["body"], data["attachments"],
            internal=form.internal, channel=Ticket.Channel.AGENT,
            new_status=data["new_status"] or None,
        )
    except ActionError as exc:
        messages.error(request, str(exc))
        return _see_other(_case_url(ticket))
    if form.internal:
        messages.success(request, "Internal note added. The customer does not see it.")
    else:
        messages.success(request, f"Reply sent to {ticket.requester.email}.")
    return _see_other(_case_url(ticket, f"m{message.pk}"))


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
        messages.info(request, "Nothing to save: no field was changed.")
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
        messages.error(request, f"Nothing was saved: {exc}")
        return _see_other(_case_url(ticket))
    done = []
    if "status" in changed:
        done.append(f"status {Ticket.Status(data['status']).label}")
    if "priority" in changed:
        done.append(f"priority {Priority(data['priority']).label}")
    if "assignee" in changed:
        assignee = data["assignee"]
        done.append(f"assignee {assignee.get_full_name()}" if assignee else "unassigned")
    messages.success(request, "Saved: " + ", ".join(done) + ".")
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
    if escalation.assigned_to is not None:
        who = f"assigned to {escalation.assigned_to.get_full_name()}"
    else:
        who = "NOBODY ON SHIFT: the case is unassigned and the level's contacts are alerted"
    text = f"Escalated to level {level_label(escalation.to_level)}; {who}."
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
