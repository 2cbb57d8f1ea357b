"""A case's messages (with their files) and escalations.

A contact's token reads what the portal shows: public messages and their files only, and
escalations without who at our end asked or a caller's number. Writes go through
casedesk.tickets.actions.add_message and casedesk.escalation (the portal widget's rules for
contacts, escalate for agents).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from casedesk.api.base import ApiView, make_cursor, page_links, page_size, read_cursor
from casedesk.api.cases import bad_cursor, case_for, iso
from casedesk.api.problems import Problem
from casedesk.api.serializers import (
    EscalationCreateSerializer,
    EscalationListSerializer,
    EscalationOutSerializer,
    MessageCreateSerializer,
    MessageOutSerializer,
    MessagePageSerializer,
)
from casedesk.api.views_cases import CASE_ID, uploads
from casedesk.core.downloads import file_response
from casedesk.core.net import client_address
from casedesk.desk.queue import after
from casedesk.escalation.actions import EscalationRefused, escalate
from casedesk.escalation.forms import PHONE_CHARACTERS
from casedesk.escalation.models import Escalation, with_level_names
from casedesk.escalation.widget import RateLimited, request_by_contact
from casedesk.tickets.access import get_attachment
from casedesk.tickets.actions import ActionError, add_message
from casedesk.tickets.models import Message, Ticket

MESSAGE_ORDER = ("created_at", "id")


def message_data(request: Request, message: Message) -> dict[str, Any]:
    author = message.author
    return {
        "id": message.pk,
        "visibility": message.kind,
        "body": message.body,
        "author": {"email": author.email, "name": author.full_name or author.email,
                   "role": author.role},
        "channel": message.channel,
        "created_at": iso(message.created_at),
        "attachments": [
            {
                "id": a.pk, "filename": a.filename, "content_type": a.content_type,
                "size": a.size, "sha256": a.sha256,
                "url": request.build_absolute_uri(reverse(
                    "api:attachment",
                    kwargs={"case_id": message.ticket_id, "attachment_id": a.pk},
                )),
            }
            for a in message.attachments.all()
        ],
    }


class MessageList(ApiView):
    query_parameters = {"get": frozenset({"cursor", "page_size"})}

    def messages(self, ticket: Ticket) -> QuerySet[Message]:
        rows = Message.objects.filter(ticket=ticket)
        if not self.is_agent():
            rows = rows.filter(kind=Message.Kind.PUBLIC)
        return rows.select_related("author").prefetch_related("attachments")

    @extend_schema(operation_id="messages_list", parameters=[
        CASE_ID,
        OpenApiParameter("cursor", str, description="From a previous page's `next`."),
        OpenApiParameter("page_size", int, description="1 to 100 (default 50)."),
    ], responses=MessagePageSerializer)
    def get(self, request: Request, case_id: int) -> Response:
        ticket = case_for(self.person(), case_id, "api:messages")
        size = page_size(request)
        rows = self.messages(ticket)
        scope = f"messages|{ticket.pk}|{self.is_agent()}"
        if raw := request.query_params.get("cursor"):
            key = read_cursor(scope, raw)
            if len(key) != 2:
                raise bad_cursor()
            rows = rows.filter(after(MESSAGE_ORDER, key))
        found = list(rows.order_by(*MESSAGE_ORDER)[:size + 1])
        more = len(found) > size
        found = found[:size]
        cursor = make_cursor(scope, [found[-1].created_at, found[-1].pk]) if more else None
        return Response({"results": [message_data(request, m) for m in found],
                         **page_links(request, cursor)})

    @extend_schema(operation_id="messages_create", parameters=[CASE_ID], request={
        "application/json": MessageCreateSerializer,
        "multipart/form-data": MessageCreateSerializer,
    }, responses={201: MessageOutSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        ticket = case_for(self.person(), case_id, "api:messages")
        return self.idempotent(request, lambda: self.create(request, ticket))

    def create(self, request: Request, ticket: Ticket) -> Response:
        person = self.person()
        form = MessageCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        internal = data.get("visibility") == "internal"
        if internal and not person.is_agent:
            raise serializers.ValidationError(
                {"visibility": ["Only agents can add internal notes."]}
            )
        if not data["body"].strip():
            raise serializers.ValidationError({"body": ["Write a message."]})
        files = uploads(request)
        try:
            message = add_message(ticket.pk, person, data["body"], files, internal=internal,
                                  channel=Ticket.Channel.API)
        except ActionError as exc:
            raise Problem(409, str(exc)) from None
        message = self.messages(ticket).get(pk=message.pk)
        return Response(message_data(request, message), status=201)


class AttachmentDownload(ApiView):
    @extend_schema(
        operation_id="attachments_download",
        parameters=[CASE_ID, OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY,
                                                 description="The file, as it was sent.")},
    )
    def get(self, request: Request, case_id: int, attachment_id: int) -> HttpResponseBase:
        ticket = case_for(self.person(), case_id, "api:case")
        stored = get_attachment(ticket, attachment_id, public_only=not self.is_agent())
        return file_response(stored.file, content_type=stored.content_type,
                             filename=stored.filename, cache_control="private, max-age=3600")


def escalation_data(escalation: Escalation, *, agent: bool) -> dict[str, Any]:
    return {
        "id": escalation.pk,
        "from_level": escalation.from_level,
        "to_level": escalation.to_level,
        "to_level_name": getattr(escalation, "to_name", None),
        "source": escalation.source,
        "reason": escalation.reason,
        "actor": escalation.actor.email if agent and escalation.actor else None,
        "caller_name": escalation.caller_name if agent else None,
        "caller_phone": escalation.caller_phone if agent else None,
        "assigned_to": escalation.assigned_to.email if escalation.assigned_to else None,
        "nobody_on_shift": escalation.nobody_on_shift,
        "created_at": iso(escalation.created_at),
    }


class EscalationList(ApiView):
    # JSON only: nothing here takes files, and a form body that parses to nothing
    # must not pass for an empty change.
    parser_classes = [JSONParser]

    def rows(self, ticket: Ticket) -> QuerySet[Escalation]:
        return with_level_names(
            Escalation.objects.filter(ticket=ticket).select_related("actor", "assigned_to")
        ).order_by("created_at", "pk")

    @extend_schema(operation_id="escalations_list", parameters=[CASE_ID],
                   responses=EscalationListSerializer)
    def get(self, request: Request, case_id: int) -> Response:
        ticket = case_for(self.person(), case_id, "api:escalations")
        agent = self.is_agent()
        return Response({"results": [escalation_data(e, agent=agent)
                                     for e in self.rows(ticket)]})

    @extend_schema(operation_id="escalations_create", parameters=[CASE_ID],
                   request=EscalationCreateSerializer, responses={201: EscalationOutSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        ticket = case_for(self.person(), case_id, "api:escalations")
        return self.idempotent(request, lambda: self.create(request, ticket))

    def create(self, request: Request, ticket: Ticket) -> Response:
        person = self.person()
        form = EscalationCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        reason = data["reason"].strip()
        errors: dict[str, list[str]] = {}
        if not reason:
            errors["reason"] = ["Say why the case needs escalating."]
        if person.is_agent:
            source = data.get("source") or Escalation.Source.AGENT
            if source == Escalation.Source.PORTAL:
                errors["source"] = ["portal is the customers' own source; use agent or phone."]
            if source == Escalation.Source.PHONE:
                errors.update(phone_errors(data))
        else:
            source = data.get("source") or Escalation.Source.PORTAL
            if source != Escalation.Source.PORTAL:
                errors["source"] = ["A contact's token escalates with source portal."]
            for name in ("level", "caller_name", "caller_phone"):
                if data.get(name):
                    errors[name] = ["Only agents can set this."]
        if errors:
            raise serializers.ValidationError(errors)
        try:
            if person.is_agent:
                escalation = escalate(
                    ticket.pk, source=source, reason=reason, actor=person,
                    to_level=data.get("level"), caller_name=data.get("caller_name", ""),
                    caller_phone=data.get("caller_phone", ""),
                )
            else:
                escalation = request_by_contact(person, case_id=ticket.pk, reason=reason,
                                                ip=client_address(request._request) or None)
        except RateLimited as exc:
            raise Problem(429, str(exc), headers={"Retry-After": "3600"}) from None
        except EscalationRefused as exc:
            raise Problem(409, str(exc)) from None
        row = self.rows(ticket).get(pk=escalation.pk)
        return Response(escalation_data(row, agent=person.is_agent), status=201)


def phone_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not data.get("caller_name", "").strip():
        errors["caller_name"] = ["Who called? Give their name."]
    phone = data.get("caller_phone", "").strip()
    digits = sum(c.isdigit() for c in phone)
    if not PHONE_CHARACTERS.match(phone) or not 5 <= digits <= 20:
        errors["caller_phone"] = [
            "The number they called from: digits, spaces and + ( ) - only, like "
            "+971 50 555 0101."
        ]
    return errors
