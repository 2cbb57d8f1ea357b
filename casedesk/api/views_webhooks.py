"""Webhook subscriptions over the API: partner organizations subscribe their own systems to
their own cases; admins manage every subscription, as on the desk's pages.

Who manages which is casedesk.webhooks.access's; making one goes through
casedesk.webhooks.actions (the URL checks against SSRF, the events, the organization's
limit). A subscription someone does not manage answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from casedesk.accounts.models import Organization
from casedesk.api.base import ApiView, make_cursor, page_links, page_size, read_cursor
from casedesk.api.cases import bad_cursor, iso
from casedesk.api.problems import Problem
from casedesk.api.serializers import (
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookDeliveryPageSerializer,
    WebhookListSerializer,
    WebhookOutSerializer,
    WebhookReplaySerializer,
    WebhookSecretSerializer,
    WebhookUpdateSerializer,
)
from casedesk.webhooks.access import (
    NotAllowed,
    get_subscription_for_manager,
    is_webhook_admin,
    subscriptions_managed_by,
)
from casedesk.webhooks.actions import (
    SubscriptionData,
    SubscriptionError,
    change_subscription,
    create_subscription,
    delete_subscription,
    replay,
    roll_secret,
)
from casedesk.webhooks.models import Delivery, Subscription

WEBHOOK_ID = OpenApiParameter("webhook_id", int, OpenApiParameter.PATH,
                              description="The subscription's id.")


def subscription_data(request: Request, subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "url": subscription.url,
        "description": subscription.description,
        "events": list(subscription.events),
        "organization": subscription.organization_id,
        "is_active": subscription.is_active,
        "created_at": iso(subscription.created_at),
        "deliveries_url": request.build_absolute_uri(
            reverse("api:webhook_deliveries", args=[subscription.pk])),
    }


def delivery_data(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": str(delivery.pk),
        "event": delivery.event_id,
        "type": delivery.event_type,
        "case_id": delivery.ticket_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": iso(delivery.created_at),
        "next_attempt_at": iso(delivery.next_attempt_at) if not delivery.is_done else None,
        "delivered_at": iso(delivery.delivered_at),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "last_duration_ms": delivery.last_duration_ms,
    }


class WebhookView(ApiView):
    # JSON only: nothing here takes files, and a form body that parses to nothing must
    # not pass for a subscription.
    parser_classes = [JSONParser]

    def managed(self) -> Any:
        try:
            return subscriptions_managed_by(self.person())
        except NotAllowed as exc:
            raise Problem(403, str(exc)) from None

    def http_method_not_allowed(  # type: ignore[override]
        self, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        # Another organization's subscription answers 404 to every method: a 405 would
        # tell that the id exists.
        if "webhook_id" in kwargs:
            self.find(kwargs["webhook_id"])
        return super().http_method_not_allowed(request, *args, **kwargs)

    def find(self, webhook_id: int) -> Subscription:
        self.managed()  # 403 first for someone who manages none
        return get_subscription_for_manager(self.person(), webhook_id)


class WebhookList(WebhookView):
    @extend_schema(operation_id="webhooks_list", responses=WebhookListSerializer)
    def get(self, request: Request) -> Response:
        rows = self.managed().order_by("pk")
        return Response({"results": [subscription_data(request, s) for s in rows]})

    @extend_schema(operation_id="webhooks_create", request=WebhookCreateSerializer,
                   responses={201: WebhookCreatedSerializer})
    def post(self, request: Request) -> Response:
        self.managed()
        return self.idempotent(request, lambda: self.create(request))

    def create(self, request: Request) -> Response:
        person = self.person()
        form = WebhookCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        organization: Organization | None = None
        if is_webhook_admin(person):
            if data.get("organization") is not None:
                organization = Organization.objects.filter(pk=data["organization"]).first()
                if organization is None:
                    raise serializers.ValidationError(
                        {"organization": [f"There is no organization {data['organization']}."]})
        else:
            if data.get("organization") not in (None, person.organization_id):
                raise serializers.ValidationError({"organization": [
                    "A contact's token subscribes to its own organization's cases only; "
                    "leave this out."]})
            organization = person.organization
        try:
            subscription, secret = create_subscription(SubscriptionData(
                url=data["url"], events=list(data["events"]), organization=organization,
                description=data.get("description", ""),
            ), person)
        except SubscriptionError as exc:
            raise serializers.ValidationError(
                {name: [message] for name, message in exc.errors.items()}) from None
        return Response({**subscription_data(request, subscription), "secret": secret},
                        status=201, headers={
                            "Location": reverse("api:webhook", args=[subscription.pk])})


class WebhookDetail(WebhookView):
    @extend_schema(operation_id="webhooks_read", parameters=[WEBHOOK_ID],
                   responses=WebhookOutSerializer)
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(subscription_data(request, self.find(webhook_id)))

    @extend_schema(operation_id="webhooks_update", parameters=[WEBHOOK_ID],
                   request=WebhookUpdateSerializer, responses=WebhookOutSerializer)
    def patch(self, request: Request, webhook_id: int) -> Response:
        subscription = self.find(webhook_id)
        # A misspelt field ("event") changing nothing while the answer says 200 would hide
        # the mistake: every field must be one of these.
        fields = set(WebhookUpdateSerializer().fields)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"body": ["A JSON object."]})
        unknown = sorted(set(request.data) - fields)
        if unknown:
            raise serializers.ValidationError({name: [
                f"Not a field that can be changed (one of {', '.join(sorted(fields))})."]
                for name in unknown})
        form = WebhookUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        if not form.validated_data:
            raise serializers.ValidationError({"body": [
                f"Nothing to change: give one of {', '.join(sorted(fields))}."]})
        try:
            changed = change_subscription(subscription.pk, **form.validated_data)
        except SubscriptionError as exc:
            raise serializers.ValidationError(
                {name: [message] for name, message in exc.errors.items()}) from None
        return Response(subscription_data(request, changed))

    @extend_schema(operation_id="webhooks_delete", parameters=[WEBHOOK_ID],
                   responses={204: OpenApiResponse(description="Deleted, with its deliveries: "
                                                   "nothing more is sent to it.")})
    def delete(self, request: Request, webhook_id: int) -> Response:
        delete_subscription(self.find(webhook_id).pk)
        return Response(status=204)


class WebhookSecret(WebhookView):
    @extend_schema(operation_id="webhooks_secret_roll", parameters=[WEBHOOK_ID], request=None,
                   responses={200: WebhookSecretSerializer})
    def post(self, request: Request, webhook_id: int) -> Response:
        """A new signing secret, for a secret that leaked or is due to change. The old one
        stops at once: deliveries from the next attempt on are signed with the new one.
        With an Idempotency-Key, a retried request gets the same secret back instead of
        rolling it again."""
        subscription = self.find(webhook_id)
        return self.idempotent(
            request, lambda: Response({"secret": roll_secret(subscription.pk)}))


class WebhookReplay(WebhookView):
    @extend_schema(operation_id="webhooks_delivery_replay", parameters=[
        WEBHOOK_ID, OpenApiParameter("delivery_id", str, OpenApiParameter.PATH,
                                     description="The delivery's id (Casedesk-Delivery)."),
    ], request=None, responses={202: WebhookReplaySerializer})
    def post(self, request: Request, webhook_id: int, delivery_id: UUID) -> Response:
        """Send a delivery again: one that was delivered or failed is sent once more; one
        waiting for its next attempt is attempted now."""
        subscription = self.find(webhook_id)
        delivery = Delivery.objects.filter(pk=delivery_id, subscription=subscription).first()
        if delivery is None:
            raise Problem(404, "There is no such delivery of this subscription.")
        result = replay(delivery)
        delivery.refresh_from_db()
        return Response({"result": result, "delivery": delivery_data(delivery)}, status=202)


class WebhookDeliveryList(WebhookView):
    query_parameters = {"get": frozenset({"status", "cursor", "page_size"})}

    @extend_schema(operation_id="webhooks_deliveries_list", parameters=[
        WEBHOOK_ID,
        OpenApiParameter("status", str, enum=list(Delivery.Status.values)),
        OpenApiParameter("cursor", str, description="From a previous page's `next`."),
        OpenApiParameter("page_size", int, description="1 to 100 (default 50)."),
    ], responses=WebhookDeliveryPageSerializer)
    def get(self, request: Request, webhook_id: int) -> Response:
        subscription = self.find(webhook_id)
        size = page_size(request)
        rows = Delivery.objects.filter(subscription=subscription)
        status = request.query_params.get("status", "")
        if status:
            if status not in Delivery.Status.values:
                raise serializers.ValidationError(
                    {"status": [f"One of {', '.join(Delivery.Status.values)}."]})
            rows = rows.filter(status=status)
        scope = f"deliveries|{subscription.pk}|{status}"
        # Newest event first; a subscription has one delivery per event.
        if raw := request.query_params.get("cursor"):
            position = read_cursor(scope, raw)
            if len(position) != 1 or not isinstance(position[0], int):
                raise bad_cursor()
            rows = rows.filter(event_id__lt=position[0])
        found = list(rows.order_by("-event_id")[:size + 1])
        more = len(found) > size
        found = found[:size]
        cursor = make_cursor(scope, [found[-1].event_id]) if more and found else None
        return Response({"results": [delivery_data(d) for d in found],
                         **page_links(request, cursor)})
