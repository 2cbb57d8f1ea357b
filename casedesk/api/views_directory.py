"""Organizations and contacts.

Agents see every organization and contact; admin agents (staff) create and change
organizations (their plan sets the SLA), any agent creates and changes contacts. A
contact's token sees its own organization, and the organization's contacts when it sees the
organization's cases (else only itself); it changes neither.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from casedesk.accounts.directory import (
    DirectoryError,
    create_contact,
    create_organization,
    update_contact,
    update_organization,
)
from casedesk.accounts.models import Organization, User
from casedesk.api.base import ApiView, make_cursor, page_links, page_size, read_cursor
from casedesk.api.problems import Problem
from casedesk.api.serializers import (
    ContactOutSerializer,
    ContactPageSerializer,
    ContactSerializer,
    OrganizationOutSerializer,
    OrganizationPageSerializer,
    OrganizationSerializer,
    organization_data,
)
from casedesk.sla.models import Plan

PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="From a previous page's `next`."),
    OpenApiParameter("page_size", int, description="1 to 100 (default 50)."),
]


def field_error(exc: DirectoryError) -> serializers.ValidationError:
    return serializers.ValidationError({exc.field: [str(exc)]})


def id_page(request: Request, rows: QuerySet[Any], scope: str) -> tuple[list[Any], str | None]:
    """One page of `rows` by ascending id, and the cursor after it."""
    size = page_size(request)
    raw = request.query_params.get("cursor")
    if raw:
        position = read_cursor(scope, raw)
        if len(position) != 1 or not isinstance(position[0], int):
            raise Problem(400, "This cursor was made for another list.",
                          errors=[{"field": "cursor", "message": "Made for another list."}])
        rows = rows.filter(pk__gt=position[0])
    found = list(rows.order_by("pk")[:size + 1])
    more = len(found) > size
    found = found[:size]
    return found, make_cursor(scope, [found[-1].pk]) if more and found else None


# ---------------------------------------------------------------- organizations


class OrganizationAccess(ApiView):
    # JSON only: nothing here takes files, and a form body that parses to nothing
    # must not pass for an empty change.
    parser_classes = [JSONParser]

    def organizations(self) -> QuerySet[Organization]:
        person = self.person()
        rows = Organization.objects.select_related("plan")
        if person.is_agent:
            return rows
        return rows.filter(pk=person.organization_id) if person.organization_id else rows.none()

    def require_admin(self, what: str) -> None:
        person = self.person()
        if not (person.is_agent and person.is_staff):
            raise Problem(403, f"Only an admin agent's token can {what}.")


class OrganizationList(OrganizationAccess):
    query_parameters = {"get": frozenset({"cursor", "page_size"})}

    @extend_schema(operation_id="organizations_list", parameters=PAGE_PARAMS,
                   responses=OrganizationPageSerializer)
    def get(self, request: Request) -> Response:
        found, cursor = id_page(request, self.organizations(), "organizations")
        default = Plan.default()
        return Response({"results": [organization_data(o, default) for o in found],
                         **page_links(request, cursor)})

    @extend_schema(operation_id="organizations_create", request=OrganizationSerializer,
                   responses={201: OrganizationOutSerializer})
    def post(self, request: Request) -> Response:
        return self.idempotent(request, lambda: self.create(request))

    def create(self, request: Request) -> Response:
        self.require_admin("create organizations")
        form = OrganizationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            org = create_organization(**form.to_fields())
        except DirectoryError as exc:
            raise field_error(exc) from None
        return Response(organization_data(org, Plan.default()), status=201, headers={
            "Location": reverse("api:organization", args=[org.pk]),
        })


class OrganizationDetail(OrganizationAccess):
    def find(self, organization_id: int) -> Organization:
        org = self.organizations().filter(pk=organization_id).first()
        if org is None:
            raise Http404("No such organization.")
        return org

    @extend_schema(operation_id="organizations_read", responses=OrganizationOutSerializer)
    def get(self, request: Request, organization_id: int) -> Response:
        return Response(organization_data(self.find(organization_id), Plan.default()))

    @extend_schema(operation_id="organizations_update",
                   request=OrganizationSerializer(partial=True),
                   responses=OrganizationOutSerializer)
    def patch(self, request: Request, organization_id: int) -> Response:
        org = self.find(organization_id)
        self.require_admin("change organizations")
        form = OrganizationSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        try:
            org = update_organization(org.pk, **form.to_fields())
        except DirectoryError as exc:
            raise field_error(exc) from None
        return Response(organization_data(org, Plan.default()))


# ---------------------------------------------------------------- contacts


def contact_data(user: User) -> dict[str, Any]:
    return {
        "id": user.pk, "email": user.email, "name": user.full_name, "phone": user.phone,
        "organization": user.organization_id, "language": user.language,
        "created_at": serializers.DateTimeField().to_representation(user.date_joined),
    }


class ContactAccess(ApiView):
    # JSON only: nothing here takes files, and a form body that parses to nothing
    # must not pass for an empty change.
    parser_classes = [JSONParser]

    def contacts(self) -> QuerySet[User]:
        person = self.person()
        rows = User.objects.filter(role=User.Role.CONTACT)
        if person.is_agent:
            return rows
        if person.sees_organization_cases() and person.organization_id is not None:
            return rows.filter(organization_id=person.organization_id)
        return rows.filter(pk=person.pk)

    def require_agent(self, what: str) -> None:
        if not self.is_agent():
            raise Problem(403, f"Only an agent's token can {what}.")


class ContactList(ContactAccess):
    query_parameters = {"get": frozenset({"cursor", "page_size", "organization", "email"})}

    @extend_schema(operation_id="contacts_list", parameters=[
        *PAGE_PARAMS,
        OpenApiParameter("organization", int, description="Only this organization's."),
        OpenApiParameter("email", str, description="The contact with this address."),
    ], responses=ContactPageSerializer)
    def get(self, request: Request) -> Response:
        rows = self.contacts()
        scope = "contacts"
        organization = request.query_params.get("organization", "")
        if organization:
            if not organization.isdigit() or len(organization) > 18:
                raise serializers.ValidationError({"organization": ["An organization's id."]})
            rows = rows.filter(organization_id=int(organization))
            scope += f"|org={organization}"
        email = request.query_params.get("email", "")
        if email:
            rows = rows.filter(email=email.strip().lower())
            scope += f"|email={email}"
        found, cursor = id_page(request, rows, scope)
        return Response({"results": [contact_data(u) for u in found],
                         **page_links(request, cursor)})

    @extend_schema(operation_id="contacts_create", request=ContactSerializer,
                   responses={201: ContactOutSerializer})
    def post(self, request: Request) -> Response:
        return self.idempotent(request, lambda: self.create(request))

    def create(self, request: Request) -> Response:
        self.require_agent("create contacts")
        form = ContactSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            user = create_contact(
                email=data["email"], full_name=data["name"], phone=data.get("phone", ""),
                organization=data.get("organization"), language=data.get("language", ""),
            )
        except DirectoryError as exc:
            raise field_error(exc) from None
        return Response(contact_data(user), status=201, headers={
            "Location": reverse("api:contact", args=[user.pk]),
        })


class ContactDetail(ContactAccess):
    def find(self, contact_id: int) -> User:
        user = self.contacts().filter(pk=contact_id).first()
        if user is None:
            raise Http404("No such contact.")
        return user

    @extend_schema(operation_id="contacts_read", responses=ContactOutSerializer)
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(contact_data(self.find(contact_id)))

    @extend_schema(operation_id="contacts_update", request=ContactSerializer(partial=True),
                   responses=ContactOutSerializer)
    def patch(self, request: Request, contact_id: int) -> Response:
        user = self.find(contact_id)
        self.require_agent("change contacts")
        form = ContactSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        if "email" in data and data["email"].strip().lower() != user.email:
            raise serializers.ValidationError(
                {"email": ["A contact's address cannot be changed here; ask an admin."]}
            )
        data.pop("email", None)
        if "name" in data:
            data["full_name"] = data.pop("name")
        return Response(contact_data(update_contact(user.pk, **data)))
