"""Working a case on the desk: replies (with the stale-view check and macros), CCs, linked
cases, merging, presence, and managing macros.

Views fetch and authorize through casedesk.tickets.access, validate with forms, and change
cases only through casedesk.tickets.actions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from casedesk.accounts.models import User
from casedesk.desk.access import agent_required
from casedesk.desk.case_forms import CaseIdForm, CcForm, MacroForm
from casedesk.desk.forms import ReplyForm
from casedesk.desk.macros import PLACEHOLDERS, macros_for, may_edit
from casedesk.desk.models import Macro, Presence
from casedesk.desk.presence import leave, others_on, ping
from casedesk.desk.views import _agent, _case_page, _case_url, _see_other
from casedesk.tickets.access import get_case_for_agent, resolve_merged
from casedesk.tickets.actions import (
    ActionError,
    add_cc,
    add_message,
    change_priority,
    check_merge,
    link_cases,
    lock_ticket,
    merge_cases,
    remove_cc,
    unlink_cases,
)
from casedesk.tickets.models import Message, Ticket


class _Stale(Exception):
    def __init__(self, newer: list[int]) -> None:
        super().__init__("newer messages")
        self.newer = newer


@agent_required
def reply(request: HttpRequest, case_id: str) -> HttpResponse:
    """A reply or note. Posted on a stale view (a public message came in after the page
    was loaded, or the case was merged meanwhile) nothing is sent: the page comes back
    with the new messages marked, the draft kept, and "Send anyway"."""
    agent = _agent(request)
    ticket = get_case_for_agent(agent, case_id)
    if request.method != "POST":
        # Someone who signed in from a reply link lands on the case, not on an error.
        return redirect(_case_url(ticket))
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _case_page(request, ticket, reply_form=form)
    data = form.cleaned_data
    try:
        # One transaction: the check, the message and a macro's priority change stand or
        # fall together. The case's row lock, taken before looking for newer messages,
        # holds off anyone else's reply until ours is in: nothing slips between.
        with transaction.atomic():
            lock_ticket(ticket.pk)
            ticket.refresh_from_db(fields=["merged_into"])
            if ticket.merged_into_id is not None:
                raise _Stale([])
            seen = data["seen"]
            newer = [] if seen is None else list(
                Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC, pk__gt=seen)
                .values_list("pk", flat=True)
            )
            if newer:
                raise _Stale(newer)
            message = add_message(
                ticket.pk, agent, data["body"], data["attachments"],
                internal=form.internal, channel=Ticket.Channel.AGENT,
                new_status=data["new_status"] or None,
            )
            if data["new_priority"] is not None:
                change_priority(ticket.pk, agent, data["new_priority"])
    except _Stale as stale:
        return _stale_page(request, ticket, stale.newer)
    except ActionError as exc:
        form.add_error(None, gettext("Nothing was sent: %(problem)s") % {"problem": exc})
        return _case_page(request, ticket, reply_form=form)
    if form.internal:
        messages.success(request, gettext("Internal note added. The customer does not see it."))
    else:
        messages.success(request, gettext("Reply sent to %(email)s.") % {
            "email": ticket.requester.email})
    return _see_other(_case_url(ticket, f"m{message.pk}"))


def _stale_page(request: HttpRequest, ticket: Ticket, newer: list[int]) -> HttpResponse:
    merged_from = None
    if ticket.merged_into_id is not None:
        merged_from = ticket.pk
        ticket = get_case_for_agent(_agent(request), resolve_merged(ticket.pk) or ticket.pk)
        newer = []
    latest = Message.objects.filter(ticket=ticket).aggregate(latest=Max("pk"))["latest"] or 0
    # The draft as typed; "seen" moves to now, so "Send anyway" sends unless yet another
    # message comes in first.
    data = request.POST.copy()
    data["seen"] = str(latest)
    form = ReplyForm(data)
    return _case_page(
        request, ticket, reply_form=form, stale=True, fresh=set(newer),
        merged_from=merged_from, files_dropped=bool(request.FILES),
    )


def _panel_error(
    request: HttpRequest, ticket: Ticket, form_name: str, form: CaseIdForm | CcForm,
    error: str | None = None,
) -> HttpResponse:
    if error:
        form.add_error(None, error)
    forms: dict[str, Any] = {form_name: form}
    return _case_page(request, ticket, **forms)


@agent_required
@require_POST
def cc_add(request: HttpRequest, case_id: str) -> HttpResponse:
    agent = _agent(request)
    ticket = get_case_for_agent(agent, case_id)
    form = CcForm(request.POST)
    if not form.is_valid():
        return _panel_error(request, ticket, "cc_form", form)
    try:
        added = add_cc(ticket.pk, agent, form.cleaned_data["addresses"])
    except ActionError as exc:
        return _panel_error(request, ticket, "cc_form", form, str(exc))
    messages.success(request, gettext("Copied on the case's mail: %(addresses)s.") % {
        "addresses": ", ".join(added)})
    return _see_other(_case_url(ticket, "ccs"))


@agent_required
@require_POST
def cc_remove(request: HttpRequest, case_id: str) -> HttpResponse:
    agent = _agent(request)
    ticket = get_case_for_agent(agent, case_id)
    address = request.POST.get("address", "")[:320]
    try:
        remove_cc(ticket.pk, agent, address)
    except ActionError as exc:
        messages.error(request, gettext("Nothing was changed: %(problem)s") % {"problem": exc})
    else:
        messages.success(request, gettext("%(address)s is no longer copied.") % {
            "address": address.strip().lower()})
    return _see_other(_case_url(ticket, "ccs"))


@agent_required
@require_POST
def link_add(request: HttpRequest, case_id: str) -> HttpResponse:
    agent = _agent(request)
    ticket = get_case_for_agent(agent, case_id)
    form = CaseIdForm(request.POST, auto_id="link_%s")
    if not form.is_valid():
        return _panel_error(request, ticket, "link_form", form)
    other = form.cleaned_data["case"]
    try:
        link_cases(ticket.pk, other, agent)
    except ActionError as exc:
        return _panel_error(request, ticket, "link_form", form, str(exc))
    messages.success(request, gettext("Case %(id)s is linked as related.") % {"id": other})
    return _see_other(_case_url(ticket, "links"))


@agent_required
@require_POST
def link_remove(request: HttpRequest, case_id: str) -> HttpResponse:
    agent = _agent(request)
    ticket = get_case_for_agent(agent, case_id)
    form = CaseIdForm(request.POST)
    try:
        if not form.is_valid():
            raise ActionError(gettext("That is not a Case ID."))
        unlink_cases(ticket.pk, form.cleaned_data["case"], agent)
    except ActionError as exc:
        messages.error(request, gettext("Nothing was changed: %(problem)s") % {"problem": exc})
    else:
        messages.success(request, gettext("Case %(id)s is no longer linked.") % {
            "id": form.cleaned_data["case"]})
    return _see_other(_case_url(ticket, "links"))


@agent_required
@require_POST
def merge(request: HttpRequest, case_id: str) -> HttpResponse:
    """Merge this case into another: first a page that shows what will happen, then, once
    confirmed, the merge itself."""
    agent = _agent(request)
    ticket = get_case_for_agent(agent, case_id)
    form = CaseIdForm(request.POST, auto_id="merge_%s")
    if not form.is_valid():
        return _panel_error(request, ticket, "merge_form", form)
    target_id = form.cleaned_data["case"]
    target = Ticket.objects.select_related("requester", "organization").filter(
        pk=target_id
    ).first()
    try:
        if target is None:
            raise ActionError(gettext("There is no case %(id)s.") % {"id": target_id})
        check_merge(ticket, target)
        if request.POST.get("confirm") != "yes":
            return render(request, "desk/merge.html", {
                "source": ticket, "target": target, "form": form,
                "source_messages": ticket.messages.count(),
                "source_files": ticket.attachments.count(),
            })
        result = merge_cases(ticket.pk, target_id, agent)
    except ActionError as exc:
        return _panel_error(request, ticket, "merge_form", form, str(exc))
    moved = ngettext("%(count)s message", "%(count)s messages", result.messages) % {
        "count": result.messages}
    files = ngettext("%(count)s file", "%(count)s files", result.attachments) % {
        "count": result.attachments}
    messages.success(request, gettext(
        "Case %(id)s was merged into this case: %(messages)s and %(files)s moved; both "
        "requesters are being emailed."
    ) % {"id": ticket.pk, "messages": moved, "files": files})
    return _see_other(_case_url(result.target))


@agent_required
@require_POST
def presence(request: HttpRequest, case_id: str) -> JsonResponse:
    """A case page's ping: "viewing", "typing", or "left"; answers who else is there."""
    agent = _agent(request)
    ticket = get_case_for_agent(agent, case_id)
    state = request.POST.get("state", "")
    if state == "left":
        leave(ticket.pk, agent)
        return JsonResponse({"others": []})
    if state not in Presence.State.values:
        return JsonResponse({"error": "state is viewing, typing or left"}, status=400)
    ping(ticket.pk, agent, state)
    return JsonResponse({"others": [o.as_json() for o in others_on(ticket.pk, agent)]})


# ------------------------------------------------------------------ macros


@agent_required
@require_GET
def macro_list(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    macros = [(m, may_edit(agent, m)) for m in macros_for(agent).select_related("owner")]
    return render(request, "desk/macros.html", {
        "macros": macros, "placeholders": PLACEHOLDERS,
    })


def _own_macro(agent: User, macro_id: int) -> Macro:
    macro = macros_for(agent).filter(pk=macro_id).first()
    if macro is None or not may_edit(agent, macro):
        raise Http404("No such macro.")
    return macro


@agent_required
def macro_edit(request: HttpRequest, macro_id: int | None = None) -> HttpResponse:
    agent = _agent(request)
    macro = _own_macro(agent, macro_id) if macro_id is not None else Macro()
    if request.method == "POST":
        form = MacroForm(request.POST, instance=macro, agent=agent)
        if form.is_valid():
            saved = form.save(commit=False)
            saved.owner = None if form.cleaned_data["shared"] else agent
            if saved.pk is None:
                saved.created_by = agent
            saved.updated_at = timezone.now()
            saved.save()
            messages.success(request, gettext("Macro “%(name)s” saved.") % {"name": saved.name})
            return _see_other(reverse("desk:macros"))
    else:
        form = MacroForm(instance=macro, agent=agent)
    return render(request, "desk/macro_form.html", {
        "form": form, "macro": macro, "placeholders": PLACEHOLDERS,
    })


@agent_required
@require_POST
def macro_delete(request: HttpRequest, macro_id: int) -> HttpResponse:
    macro = _own_macro(_agent(request), macro_id)
    name = macro.name
    macro.delete()
    messages.success(request, gettext("Macro “%(name)s” deleted.") % {"name": name})
    return _see_other(reverse("desk:macros"))
