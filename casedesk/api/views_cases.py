"""Cases: the list (the desk's filters, full-text `q`, cursor pages), opening a case, one
case, and changing its status, priority and assignee. Every change goes through
casedesk.tickets.actions, as the portal's and the desk's do."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from casedesk.accounts.models import User, normalize_email
from casedesk.api.base import ApiView, make_cursor, page_links, page_size, read_cursor
from casedesk.api.cases import (
    agent_criteria,
    agent_page,
    bad_cursor,
    case_data,
    case_for,
    cases_data,
    contact_filters,
    contact_page,
    one_case,
    search_page,
    search_scope,
    sla_blocks,
    visible_cases,
)
from casedesk.api.problems import Problem
from casedesk.api.serializers import (
    PRIORITY_BY_SLUG,
    CaseCreateSerializer,
    CaseOutSerializer,
    CasePageSerializer,
    CaseUpdateSerializer,
)
from casedesk.core.files import CheckedFile, check_uploads
from casedesk.tickets.actions import (
    ActionError,
    assign,
    change_priority,
    change_status,
    close_by_contact,
    reopen_by_contact,
    submit_case,
)
from casedesk.tickets.models import Category, Ticket

LIST_PARAMS = [
    OpenApiParameter("status", str, description="A status, or open (any open status)."),
    OpenApiParameter("priority", str, enum=list(PRIORITY_BY_SLUG)),
    OpenApiParameter("q", str, description="Full-text search (subject, messages, people); "
                     "results best first."),
    OpenApiParameter("assignee", str, description="Agents: an agent's email, me, or none."),
    OpenApiParameter("organization", int, description="Agents: an organization's id."),
    OpenApiParameter("plan", str, description="Agents: a plan's slug."),
    OpenApiParameter("category", int, description="Agents: a category's id."),
    OpenApiParameter("level", int, description="Agents: an escalation level."),
    OpenApiParameter("channel", str, enum=list(Ticket.Channel.values),
                     description="Agents only."),
    OpenApiParameter("sort", str, enum=["newest", "priority"], description="Agents only."),
    OpenApiParameter("created_from", str, description="Agents: YYYY-MM-DD, in the agent's "
                     "time zone."),
    OpenApiParameter("created_to", str, description="Agents: YYYY-MM-DD."),
    OpenApiParameter("updated_from", str, description="Agents: YYYY-MM-DD."),
    OpenApiParameter("updated_to", str, description="Agents: YYYY-MM-DD."),
    OpenApiParameter("cursor", str, description="From a previous page's `next`."),
    OpenApiParameter("page_size", int, description="1 to 100 (default 50)."),
]
CASE_ID = OpenApiParameter("case_id", int, OpenApiParameter.PATH, description="The Case ID.")


def uploads(request: Request, field: str = "attachments") -> list[CheckedFile]:
    files = request.FILES.getlist(field) if hasattr(request, "FILES") else []
    try:
        return check_uploads(files)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: exc.messages}) from None


class CaseList(ApiView):
    query_parameters = {"get": frozenset(p.name for p in LIST_PARAMS)}

    @extend_schema(operation_id="cases_list", parameters=LIST_PARAMS,
                   responses=CasePageSerializer)
    def get(self, request: Request) -> Response:
        person = self.person()
        params = request.query_params
        size = page_size(request)
        text = params.get("q", "").strip()
        raw_cursor = params.get("cursor")
        # Per role: the cursor's scope, the cases a search runs over, and the keyset page.
        searched: Callable[[int], tuple[list[int], bool]]
        keyset: Callable[[list[Any] | None], tuple[list[int], list[Any] | None]]
        if person.is_agent:
            criteria = agent_criteria(person, params)
            scope = f"agent|{person.pk}|{criteria.fingerprint()}"
            key_length = 2 if criteria.sort == "newest" else 3
            searched = partial(search_page, request, text, search_scope(person, criteria),
                               True, size)
            keyset = partial(agent_page, person, criteria, size=size)
        else:
            cases = contact_filters(params, visible_cases(person))
            scope = f"contact|{person.pk}|{params.get('status', '')}|{params.get('priority', '')}"
            key_length = 2
            searched = partial(search_page, request, text, cases, False, size)
            keyset = partial(contact_page, cases, size=size)
        if text:
            # Best first: pages of a ranking are numbered (a rank is no key to go on from).
            scope += "|search"
            page = self.page_number(scope, raw_cursor)
            ids, more = searched(page)
            cursor = make_cursor(scope, [page + 1]) if more else None
        else:
            key = read_cursor(scope, raw_cursor) if raw_cursor else None
            if key is not None and len(key) != key_length:
                raise bad_cursor()
            ids, last = keyset(key)
            cursor = make_cursor(scope, last) if last else None
        return Response({"results": cases_data(ids), **page_links(request, cursor)})

    def page_number(self, scope: str, raw: str | None) -> int:
        if not raw:
            return 1
        position = read_cursor(scope, raw)
        if len(position) != 1 or not isinstance(position[0], int) or position[0] < 1:
            raise bad_cursor()
        return int(position[0])

    @extend_schema(operation_id="cases_create", request={
        "application/json": CaseCreateSerializer, "multipart/form-data": CaseCreateSerializer,
    }, responses={201: CaseOutSerializer})
    def post(self, request: Request) -> Response:
        return self.idempotent(request, lambda: self.create(request))

    def create(self, request: Request) -> Response:
        person = self.person()
        form = CaseCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        errors: dict[str, list[str]] = {}
        email = normalize_email(data.get("requester_email", ""))
        if person.is_agent:
            if not email:
                errors["requester_email"] = ["An agent's token names the requester's address."]
            elif User.objects.filter(email=email, role=User.Role.AGENT).exists():
                errors["requester_email"] = [
                    "That is an agent's address; cases are requested by customers."
                ]
        elif email and email != person.email:
            errors["requester_email"] = [
                "A contact's token opens cases for its own address only; leave this out."
            ]
        category = None
        if data.get("category") is not None:
            category = Category.objects.filter(pk=data["category"], is_active=True).first()
            if category is None:
                errors["category"] = [f"There is no category {data['category']}."]
        if errors:
            raise serializers.ValidationError(errors)
        files = uploads(request)
        submission = submit_case(
            email=person.email if not person.is_agent else email,
            full_name=data.get("requester_name", "") or email.partition("@")[0],
            subject=data["subject"].strip(), description=data["description"],
            priority=PRIORITY_BY_SLUG[data["priority"]], category=category, files=files,
            phone=data.get("phone", ""), channel=Ticket.Channel.API,
            submitted_by=None if person.is_agent else person,
        )
        ticket = submission.ticket
        return Response(one_case(ticket.pk), status=201, headers={
            "Location": reverse("api:case", kwargs={"case_id": ticket.pk}),
        })


class CaseDetail(ApiView):
    # JSON only: nothing here takes files, and a form body that parses to nothing
    # must not pass for an empty change.
    parser_classes = [JSONParser]

    @extend_schema(operation_id="cases_read", parameters=[CASE_ID], responses=CaseOutSerializer)
    def get(self, request: Request, case_id: int) -> Response:
        ticket = case_for(self.person(), case_id, "api:case")
        # The fetch-and-authorize query already joined what the case shows.
        return Response(case_data(ticket, sla_blocks([ticket.pk])[ticket.pk]))

    @extend_schema(operation_id="cases_update", parameters=[CASE_ID],
                   request=CaseUpdateSerializer, responses=CaseOutSerializer)
    def patch(self, request: Request, case_id: int) -> Response:
        person = self.person()
        ticket = case_for(person, case_id, "api:case")
        form = CaseUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(form.validated_data)
        if person.is_agent:
            self.agent_update(person, ticket, data)
        else:
            self.contact_update(person, ticket, data)
        return Response(one_case(ticket.pk))

    def agent_update(self, agent: User, ticket: Ticket, data: dict[str, Any]) -> None:
        assignee: User | None = None
        if data.get("assignee"):
            assignee = User.objects.filter(
                email=normalize_email(data["assignee"]), role=User.Role.AGENT, is_active=True
            ).first()
            if assignee is None:
                raise serializers.ValidationError(
                    {"assignee": ["No active agent has this address."]}
                )
        try:
            # All or nothing, as on the desk: one refused change rolls back the others.
            with transaction.atomic():
                if "status" in data:
                    change_status(ticket.pk, agent, data["status"])
                if "priority" in data:
                    change_priority(ticket.pk, agent, PRIORITY_BY_SLUG[data["priority"]])
                if "assignee" in data:
                    assign(ticket.pk, agent, assignee)
        except ActionError as exc:
            raise Problem(409, f"Nothing was changed: {exc}") from None

    def contact_update(self, contact: User, ticket: Ticket, data: dict[str, Any]) -> None:
        errors: dict[str, list[str]] = {
            name: ["Only agents can change this."]
            for name in ("priority", "assignee") if name in data
        }
        status = data.get("status")
        if status is not None and status not in (Ticket.Status.CLOSED, Ticket.Status.OPEN):
            errors["status"] = ["A contact can set closed, or open to reopen a case."]
        if errors:
            raise serializers.ValidationError(errors)
        # Asking for the state the case is already in changes nothing (PATCH is idempotent).
        if status is None or (status == Ticket.Status.CLOSED and ticket.status == status) or (
            status == Ticket.Status.OPEN and ticket.is_open
        ):
            return
        try:
            if status == Ticket.Status.CLOSED:
                close_by_contact(ticket.pk, contact)
            else:
                reopen_by_contact(ticket.pk, contact)
        except ActionError as exc:
            raise Problem(409, str(exc)) from None
