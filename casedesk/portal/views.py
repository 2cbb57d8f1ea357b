"""The customer portal: home, submitting a case, the contact's cases, a case's public thread.

Views fetch and authorize through casedesk.tickets.access and change cases only through
casedesk.tickets.actions. Anything a contact may not see answers like a missing page.
"""

from __future__ import annotations

import mimetypes
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.core.downloads import file_response
from casedesk.core.format import duration_text
from casedesk.core.models import SiteConfiguration
from casedesk.escalation.forms import WidgetForm
from casedesk.escalation.models import Escalation, Level, with_level_names
from casedesk.portal.forms import CaseFilterForm, ReplyForm, SubmitForm
from casedesk.sla.models import Plan, Target
from casedesk.sla.timeline import page_context
from casedesk.tickets.access import (
    cases_visible_to_contact,
    get_attachment,
    get_case_for_contact,
    parse_case_id,
    resolve_merged,
)
from casedesk.tickets.actions import (
    ActionError,
    add_message,
    close_by_contact,
    reopen_by_contact,
    submit_case,
)
from casedesk.tickets.models import Category, Message, Ticket

SUBMITTED_SALT = "casedesk.submitted"
SUBMITTED_MAX_AGE = 3600
CASES_PER_PAGE = 25
LOGO_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".svg": "image/svg+xml",
}


def _see_other(url: str) -> HttpResponseRedirect:
    # 303: the browser follows a POST with a GET, so reloading never submits twice.
    return HttpResponseRedirect(url, status=303)


def response_targets(organization_id: int | None) -> tuple[str, dict[int, timedelta]]:
    """The plan name and first-response target per priority for an organization's
    contacts (the default plan for everyone else). Usually one query.
    """
    rows: list[Target] = []
    if organization_id is not None:
        rows = list(
            Target.objects.filter(plan__organizations__pk=organization_id)
            .select_related("plan").order_by("priority")
        )
    if not rows:
        rows = list(
            Target.objects.filter(plan__is_default=True)
            .select_related("plan").order_by("plan__name", "priority")
        )
    if not rows:
        plan = Plan.default()
        rows = list(plan.targets.select_related("plan").order_by("priority")) if plan else []
    if not rows:
        return "", {}
    plan_id = rows[0].plan_id
    return rows[0].plan.name, {
        t.priority: timedelta(minutes=t.first_response_minutes)
        for t in rows if t.plan_id == plan_id
    }


def target_texts(organization_id: int | None) -> dict[int, str]:
    plan_name, targets = response_targets(organization_id)
    return {
        priority: _("%(plan)s: response within %(target)s")
        % {"plan": plan_name, "target": duration_text(span)}
        for priority, span in targets.items()
    }


# What the case form offers changes only when an admin edits categories or plans; each web
# process reads it at most once per FORM_CACHE_SECONDS instead of on every view.
FORM_CACHE_SECONDS = 30


def form_choices(organization_id: int | None) -> tuple[list[Category], dict[int, str]]:
    def read() -> tuple[list[Category], dict[int, str]]:
        categories = list(Category.objects.filter(is_active=True).order_by("position", "name"))
        return categories, target_texts(organization_id)

    # The targets are text in the reader's language: one cache entry per language.
    choices = cache.get_or_set(
        f"portal:submit-choices:{organization_id or 0}:{get_language()}", read,
        FORM_CACHE_SECONDS,
    )
    return choices if choices is not None else read()


def home(request: HttpRequest) -> HttpResponse:
    levels = list(Level.objects.filter(show_on_portal=True).order_by("number"))
    user = request.user
    sees_org = user.is_authenticated and not user.is_agent and user.sees_organization_cases()
    return render(request, "portal/home.html", {
        "levels": levels, "sees_org": sees_org,
        "escalate_form": WidgetForm(signed_in=user.is_authenticated),
    })


def submit(request: HttpRequest) -> HttpResponse:
    """The case form. Anonymous visitors never get a session here: the confirmation page
    is reached through a signed token instead."""
    user: User | None = request.user if request.user.is_authenticated else None  # type: ignore[assignment]
    categories, texts = form_choices(user.organization_id if user else None)
    form_kwargs: dict[str, Any] = {"user": user, "categories": categories, "targets": texts}
    if request.method == "POST":
        form = SubmitForm(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            submission = submit_case(
                email=user.email if user else data["email"],
                full_name=user.full_name if user else data["full_name"],
                subject=data["subject"],
                description=data["description"],
                priority=data["priority"],
                category=data["category"],
                files=data["attachments"],
                phone=data.get("phone", ""),
                organization_name=data.get("organization_name", ""),
                channel=Ticket.Channel.PORTAL,
                submitted_by=user,
            )
            token = signing.dumps(submission.ticket.pk, salt=SUBMITTED_SALT)
            return _see_other(reverse("portal:submitted", args=[token]))
    else:
        form = SubmitForm(**form_kwargs)
    files_lost = form.is_bound and bool(request.FILES) and not form.is_valid()
    return render(request, "portal/submit.html", {
        "form": form, "files_lost": files_lost,
        # The empty form an anonymous visitor gets is the same for everyone: render its
        # fields once per FORM_CACHE_SECONDS instead of on every visit.
        "cache_fields": user is None and not form.is_bound,
    })


def submitted(request: HttpRequest, token: str) -> HttpResponse:
    try:
        case_id = signing.loads(token, salt=SUBMITTED_SALT, max_age=SUBMITTED_MAX_AGE)
    except signing.BadSignature:
        raise Http404("This confirmation link is not valid or has expired.") from None
    ticket = (
        Ticket.objects.select_related("requester", "category")
        .filter(pk=parse_case_id(case_id)).first()
    )
    if ticket is None:
        raise Http404("No such case.")
    requester = ticket.requester
    plan_name, targets = response_targets(ticket.organization_id)
    target = targets.get(ticket.priority)
    # The invitation is sent in the case's own transaction, after the case got its time.
    invited = requester.invitations.filter(created_at__gte=ticket.created_at).exists()
    return render(request, "portal/submitted.html", {
        "ticket": ticket, "requester": requester, "invited": invited,
        "plan_name": plan_name, "target_text": duration_text(target) if target else "",
        "priority_label": Priority(ticket.priority).label,
        **page_context(ticket, request.user, customer=True),
    })


def _scope(request: HttpRequest, sees_org: bool) -> str:
    return "org" if sees_org and request.GET.get("scope") == "org" else "mine"


def search_cases(cases: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """A Case ID (digits, "#" allowed) finds that case; anything else searches subjects."""
    text = query.strip()
    digits = text.lstrip("#").strip()
    if digits.isdigit() and len(digits) <= 18:
        return cases.filter(pk=int(digits))
    return cases.filter(subject__icontains=text)


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    sees_org = user.sees_organization_cases()
    scope = _scope(request, sees_org)
    visible = cases_visible_to_contact(user)
    requesters = None
    if scope == "org" and user.organization_id is not None:
        requesters = [
            (pk, full_name or email)
            for pk, full_name, email in User.objects.filter(organization_id=user.organization_id)
            .order_by("full_name", "email").values_list("pk", "full_name", "email")
        ]
    else:
        visible = visible.filter(requester=user)
    filters = CaseFilterForm(request.GET, requesters=requesters)
    if status := filters.value("status"):
        visible = visible.filter(status=status)
    if priority := filters.value("priority"):
        visible = visible.filter(priority=priority)
    if requester := filters.value("requester"):
        visible = visible.filter(requester_id=requester)
    if query := filters.value("q"):
        visible = search_cases(visible, query)
    visible = visible.select_related("requester").order_by("-created_at", "-pk")
    page = Paginator(visible, CASES_PER_PAGE).get_page(request.GET.get("page"))
    filtered = any(filters.value(name) for name in ("status", "priority", "requester", "q"))
    return render(request, "portal/cases.html", {
        "page": page, "filters": filters, "scope": scope, "sees_org": sees_org,
        "filtered": filtered,
    })


def _render_case(request: HttpRequest, ticket: Ticket, form: ReplyForm) -> HttpResponse:
    # Internal notes never reach this page: only public messages are read at all.
    thread = (
        Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC)
        .select_related("author").prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    # Customers see where their case went and why; who at our end asked, and a caller's
    # number, stay on the desk.
    escalations = list(
        with_level_names(Escalation.objects.filter(ticket=ticket)).order_by("created_at", "pk")
    )
    return render(request, "portal/case.html", {
        "ticket": ticket, "thread": thread, "form": form, "escalations": escalations,
        # to_name is annotated by with_level_names.
        "current_level": getattr(escalations[-1], "to_name", "") if escalations else "",
        "priority_label": Priority(ticket.priority).label,
        "files_lost": form.is_bound and bool(request.FILES),
        **page_context(ticket, request.user, customer=True),
    })


def _agent_redirect(request: HttpRequest, case_id: str) -> HttpResponse | None:
    """Agents read cases on the desk, where they see the whole case."""
    if getattr(request.user, "is_agent", False):
        return redirect("desk:case", case_id=parse_case_id(case_id))
    return None


@login_required
def case(request: HttpRequest, case_id: str) -> HttpResponse:
    if (to_desk := _agent_redirect(request, case_id)) is not None:
        return to_desk
    ticket = get_case_for_contact(request.user, case_id)  # type: ignore[arg-type]
    if ticket.merged_into_id is not None:
        return redirect("portal:case", case_id=_survivor(request.user, ticket).pk)  # type: ignore[arg-type]
    return _render_case(request, ticket, ReplyForm())


def _survivor(user: User, ticket: Ticket) -> Ticket:
    """The case a merged case lives on now, if the contact may see it; else 404, like any
    case they may not see."""
    if ticket.merged_into_id is None:
        return ticket
    return get_case_for_contact(user, resolve_merged(ticket.pk) or ticket.pk)


@login_required
def reply(request: HttpRequest, case_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    # A reply on a merged case's page goes where its thread went, as replies by email do.
    ticket = _survivor(user, get_case_for_contact(user, case_id))
    if request.method != "POST":
        return redirect("portal:case", case_id=ticket.pk)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_case(request, ticket, form)
    was_open = ticket.is_open
    try:
        message = add_message(
            ticket.pk, user, form.cleaned_data["body"], form.cleaned_data["attachments"],
            internal=False, channel=Ticket.Channel.PORTAL,
        )
    except ActionError as exc:
        form.add_error(None, str(exc))
        return _render_case(request, ticket, form)
    if was_open:
        messages.success(request, _("Your reply was added. We will email you when we answer."))
    else:
        messages.success(request, _("Your reply was added and the case is open again."))
    return _see_other(reverse("portal:case", args=[ticket.pk]) + f"#msg-{message.pk}")


@login_required
def close(request: HttpRequest, case_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    ticket = get_case_for_contact(user, case_id)
    if request.method == "POST":
        try:
            close_by_contact(ticket.pk, user)
        except ActionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Case %(id)s is closed. Reopen it here if the problem returns.")
                % {"id": ticket.pk},
            )
    return _see_other(reverse("portal:case", args=[ticket.pk]))


@login_required
def reopen(request: HttpRequest, case_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    ticket = get_case_for_contact(user, case_id)
    if request.method == "POST":
        try:
            reopen_by_contact(ticket.pk, user)
        except ActionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Case %(id)s is open again.") % {"id": ticket.pk})
    return _see_other(reverse("portal:case", args=[ticket.pk]))


@login_required
def attachment(
    request: HttpRequest, case_id: str, attachment_id: int, filename: str
) -> HttpResponseBase:
    # The filename in the URL is for the reader only; the stored one is what is sent.
    if getattr(request.user, "is_agent", False):
        return redirect(
            "desk:attachment", case_id=parse_case_id(case_id), attachment_id=attachment_id,
            filename=filename,
        )
    ticket = get_case_for_contact(request.user, case_id)  # type: ignore[arg-type]
    stored = get_attachment(ticket, attachment_id, public_only=True)
    return file_response(
        stored.file, content_type=stored.content_type, filename=stored.filename,
        cache_control="private, max-age=3600",
    )


def logo(request: HttpRequest) -> HttpResponseBase:
    config = SiteConfiguration.current()
    if not config.logo:
        raise Http404("No logo.")
    name = config.logo.name or ""
    extension = "." + name.rpartition(".")[2].lower()
    content_type = LOGO_TYPES.get(extension) or mimetypes.guess_type(name)[0]
    return file_response(
        config.logo, content_type=content_type or "application/octet-stream",
        cache_control="public, max-age=3600", filename=f"logo{extension}",
    )
