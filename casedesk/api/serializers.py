"""What the API reads (input serializers: validation with a message per field) and writes
(output serializers: the shape of every resource, which the OpenAPI schema shows)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.text import slugify
from rest_framework import serializers

from casedesk.accounts.models import Organization
from casedesk.core.choices import PRIORITY_SLUGS
from casedesk.escalation.models import Escalation
from casedesk.kb.models import Article
from casedesk.sla.models import Plan
from casedesk.tickets.models import Ticket
from casedesk.webhooks.models import Delivery

PRIORITIES = list(PRIORITY_SLUGS.values())
CASE_STATUSES = list(Ticket.Status.values)
PRIORITY_BY_SLUG = {slug: value for value, slug in PRIORITY_SLUGS.items()}
LANGUAGES = [code for code, _name in settings.LANGUAGES]
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DESCRIPTION_MAX = 50_000
SUBJECT_MAX = 200


def plan_slug(plan: Plan | None) -> str | None:
    return slugify(plan.name) if plan is not None else None


def plan_by_slug(slug: str) -> Plan:
    plans = {slugify(p.name): p for p in Plan.objects.all()}
    if slug not in plans:
        known = ", ".join(sorted(plans)) or "none"
        raise serializers.ValidationError(f"“{slug}” is not a plan. Plans: {known}.")
    return plans[slug]


def _wrong_type(field: serializers.Field, value: Any) -> str:
    """What a JSON value should have been for `field`, or "" when its type is right."""
    if isinstance(field, serializers.BooleanField):
        return "" if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        whole = isinstance(value, int) and not isinstance(value, bool)
        return "" if whole else "Must be a whole number."
    if isinstance(field, serializers.CharField):
        return "" if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        wrong = (_wrong_type(field.child, item) for item in value if item is not None)
        return next((message for message in wrong if message), "")
    return ""


class JsonInput(serializers.Serializer):
    """An input serializer that takes each JSON value in the type the schema gives it.

    DRF turns 135 into "135" for a string field, "12" into 12 and 1 into true: a client
    that sent the wrong type would get a 2xx and a value it did not mean. A form body
    (multipart, where every value is text) is left to DRF's own parsing, except that an
    optional field sent empty is refused like an empty JSON string, where the schema does
    not allow it: DRF took it for a field left out (a contact's case with an empty
    requester_email was opened for the contact)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, QueryDict):
            errors = {
                name: [_empty_form_value(field)] for name, field in self.fields.items()
                if not field.read_only and not field.required and data.get(name) == ""
                and not getattr(field, "allow_blank", False) and not field.allow_null
            }
        elif isinstance(data, Mapping):
            errors = {
                name: [message] for name, field in self.fields.items()
                if not field.read_only and data.get(name) is not None
                and (message := _wrong_type(field, data[name]))
            }
        else:
            errors = {}
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _empty_form_value(field: serializers.Field) -> str:
    return str(field.error_messages.get("blank") or field.error_messages.get("invalid")
               or "This field may not be empty.")


# ---------------------------------------------------------------- organizations


class OrganizationSerializer(JsonInput):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    plan = serializers.CharField(
        max_length=100, required=False,
        help_text="The support plan's slug (standard, premium, ...); empty or absent: the "
        "default plan.",
    )
    domains = serializers.ListField(
        child=serializers.CharField(max_length=253), max_length=50, required=False,
        help_text="Email domains; a new contact with an address at one joins the "
        "organization.",
    )
    org_wide_visibility = serializers.BooleanField(required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)
    created_at = serializers.DateTimeField(read_only=True)

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Give the organization a name.")
        return value

    def validate_plan(self, value: str) -> Plan:
        return plan_by_slug(value.strip().lower())

    def validate_domains(self, value: list[str]) -> str:
        cleaned = []
        for domain in value:
            domain = domain.strip().lower().lstrip("@")
            if not DOMAIN.match(domain):
                raise serializers.ValidationError(
                    f"“{domain}” is not a domain name such as example.com."
                )
            if domain not in cleaned:
                cleaned.append(domain)
        return "\n".join(cleaned)

    def validate_time_zone(self, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError(
                f"“{value}” is not a time zone; use a name such as Asia/Dubai."
            ) from None
        return value

    def to_fields(self) -> dict[str, Any]:
        """The validated data as Organization's own field names."""
        data = dict(self.validated_data)
        if "domains" in data:
            data["email_domains"] = data.pop("domains")
        return data


def organization_data(org: Organization, default_plan: Plan | None) -> dict[str, Any]:
    return {
        "id": org.pk, "name": org.name,
        "plan": plan_slug(org.plan if org.plan_id else default_plan),
        "domains": org.domain_list(), "org_wide_visibility": org.org_wide_visibility,
        "time_zone": org.time_zone, "language": org.language,
        "created_at": serializers.DateTimeField().to_representation(org.created_at),
    }


class OrganizationOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    plan = serializers.CharField(allow_null=True)
    domains = serializers.ListField(child=serializers.CharField())
    org_wide_visibility = serializers.BooleanField()
    time_zone = serializers.CharField()
    language = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrganizationPageSerializer(serializers.Serializer):
    results = OrganizationOutSerializer(many=True)
    next = serializers.URLField(allow_null=True)


# ---------------------------------------------------------------- contacts


class ContactSerializer(JsonInput):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    organization = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    language = serializers.ChoiceField(
        choices=["", *LANGUAGES], required=False, allow_blank=True,
        help_text="Empty: the organization's language.",
    )
    created_at = serializers.DateTimeField(read_only=True)

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Give the contact's name.")
        return value

    def validate_organization(self, value: int | None) -> Organization | None:
        if value is None:
            return None
        organization = Organization.objects.filter(pk=value).first()
        if organization is None:
            raise serializers.ValidationError(f"There is no organization {value}.")
        return organization


class ContactOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    phone = serializers.CharField()
    organization = serializers.IntegerField(allow_null=True)
    language = serializers.CharField()
    created_at = serializers.DateTimeField()


class ContactPageSerializer(serializers.Serializer):
    results = ContactOutSerializer(many=True)
    next = serializers.URLField(allow_null=True)


# ---------------------------------------------------------------- cases


class CaseCreateSerializer(JsonInput):
    requester_email = serializers.EmailField(
        max_length=254, required=False,
        help_text="Required for agent tokens; a contact's token opens cases for its own "
        "address (absent, or the same address).",
    )
    requester_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=SUBJECT_MAX)
    description = serializers.CharField(max_length=DESCRIPTION_MAX)
    priority = serializers.ChoiceField(choices=PRIORITIES)
    category = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=100,
        help_text="Files, by multipart/form-data upload.",
    )


class CaseUpdateSerializer(JsonInput):
    status = serializers.ChoiceField(
        choices=Ticket.Status.values, required=False,
        help_text="Contacts may set closed, or open on a resolved or closed case.",
    )
    priority = serializers.ChoiceField(choices=PRIORITIES, required=False,
                                       help_text="Agents only.")
    assignee = serializers.EmailField(
        required=False, allow_null=True, help_text="An agent's email, or null. Agents only."
    )


class SlaTargetSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField()
    met_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    paused = serializers.BooleanField()


class SlaSerializer(serializers.Serializer):
    first_response = SlaTargetSerializer(allow_null=True)
    next_response = SlaTargetSerializer(allow_null=True)
    resolution = SlaTargetSerializer(allow_null=True)


class CaseOutSerializer(serializers.Serializer):
    case_id = serializers.IntegerField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Ticket.Status.values)
    priority = serializers.ChoiceField(choices=PRIORITIES)
    category = serializers.CharField(allow_null=True)
    requester = serializers.EmailField()
    organization = serializers.IntegerField(allow_null=True)
    assignee = serializers.EmailField(allow_null=True)
    escalation_level = serializers.IntegerField()
    channel = serializers.ChoiceField(choices=Ticket.Channel.values)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    merged_into = serializers.IntegerField(allow_null=True)
    sla = SlaSerializer()


class CasePageSerializer(serializers.Serializer):
    results = CaseOutSerializer(many=True)
    next = serializers.URLField(allow_null=True)


# ---------------------------------------------------------------- messages


class MessageCreateSerializer(JsonInput):
    body = serializers.CharField(max_length=DESCRIPTION_MAX)
    visibility = serializers.ChoiceField(
        choices=["public", "internal"], required=False,
        help_text="internal: a note only agents see (agent tokens only).",
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=100,
        help_text="Files, by multipart/form-data upload.",
    )


class AttachmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.URLField()


class AuthorSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=["agent", "contact"])


class MessageOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    visibility = serializers.ChoiceField(choices=["public", "internal"])
    body = serializers.CharField(allow_blank=True)
    author = AuthorSerializer()
    channel = serializers.ChoiceField(choices=Ticket.Channel.values)
    created_at = serializers.DateTimeField()
    attachments = AttachmentOutSerializer(many=True)


class MessagePageSerializer(serializers.Serializer):
    results = MessageOutSerializer(many=True)
    next = serializers.URLField(allow_null=True)


# ---------------------------------------------------------------- escalations


class EscalationCreateSerializer(JsonInput):
    reason = serializers.CharField(max_length=2000)
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["portal", "phone", "agent"], required=False,
        help_text="Contact tokens: portal (the default). Agent tokens: agent (the default) "
        "or phone (a customer's call; caller_name and caller_phone then required).",
    )
    level = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=100,
        help_text="Agents only: the level to move to (default: the next one up).",
    )
    caller_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    caller_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class EscalationOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    from_level = serializers.IntegerField()
    to_level = serializers.IntegerField()
    to_level_name = serializers.CharField(allow_null=True)
    source = serializers.ChoiceField(choices=Escalation.Source.values)  # type: ignore[assignment]
    reason = serializers.CharField()
    actor = serializers.EmailField(allow_null=True, help_text="Agent tokens only.")
    caller_name = serializers.CharField(allow_null=True, help_text="Agent tokens only.")
    caller_phone = serializers.CharField(allow_null=True, help_text="Agent tokens only.")
    assigned_to = serializers.EmailField(allow_null=True)
    nobody_on_shift = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class EscalationListSerializer(serializers.Serializer):
    results = EscalationOutSerializer(many=True)


# ---------------------------------------------------------------- knowledge base


class KbPlaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class KbArticleSummarySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    language = serializers.ChoiceField(choices=LANGUAGES,
                                       help_text="The language of `title`.")
    languages = serializers.ListField(child=serializers.ChoiceField(choices=LANGUAGES),
                                      help_text="Every language the article is written in.")
    category = KbPlaceSerializer()
    section = KbPlaceSerializer()
    status = serializers.ChoiceField(choices=Article.Status.values,
                                     help_text="Drafts are listed to agent tokens only.")
    internal = serializers.BooleanField(help_text="Internal articles: agent tokens only.")
    updated_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="This article in the API.")
    web_url = serializers.URLField(help_text="This article on the knowledge base's pages.")


class KbArticlePageSerializer(serializers.Serializer):
    results = KbArticleSummarySerializer(many=True)
    next = serializers.URLField(allow_null=True)


class KbTranslationLinkSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=LANGUAGES)
    title = serializers.CharField()
    url = serializers.URLField()


class KbArticleSerializer(KbArticleSummarySerializer):
    fallback = serializers.BooleanField(
        help_text="True when the article is not written in the language asked for and is "
        "shown in English instead.")
    html = serializers.CharField(help_text="The body, rendered and sanitized.")
    markdown = serializers.CharField(help_text="The body as written (Markdown).")
    author = serializers.CharField(allow_null=True, help_text="The author's name.")
    published_at = serializers.DateTimeField(allow_null=True)
    translations = KbTranslationLinkSerializer(
        many=True, help_text="The article in its other languages.")


# ---------------------------------------------------------------- webhooks


class WebhookCreateSerializer(JsonInput):
    url = serializers.CharField(
        max_length=2000, help_text="Where each event is POSTed: https:// to a public address.")
    events = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20,
        help_text="case.created, case.updated, message.created, case.escalated, "
        "sla.warning, sla.breached.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    organization = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="Contact tokens: absent, or their own organization's id (the only one "
        "they can subscribe to). Admin agents: an organization's id, or null for every "
        "organization's cases.",
    )


class WebhookUpdateSerializer(JsonInput):
    """PATCH: any of these; the others stay as they are. The organization does not change."""

    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(child=serializers.CharField(max_length=40), max_length=20,
                                   required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(
        required=False, help_text="false: events are not sent to it until it is true again.")


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(
        help_text="The new signing secret, used from the next attempt on: shown in this "
        "answer only.")


class WebhookOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    events = serializers.ListField(child=serializers.CharField())
    organization = serializers.IntegerField(allow_null=True)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    deliveries_url = serializers.URLField()


class WebhookCreatedSerializer(WebhookOutSerializer):
    secret = serializers.CharField(
        help_text="The signing secret: shown in this answer only, keep it.")


class WebhookListSerializer(serializers.Serializer):
    results = WebhookOutSerializer(many=True)


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Sent as Casedesk-Delivery.")
    event = serializers.IntegerField(help_text="The event's id (the body's `id`).")
    type = serializers.CharField()
    case_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Delivery.Status.values)
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    last_duration_ms = serializers.IntegerField(allow_null=True)


class WebhookReplaySerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=["queued", "due"],
        help_text="queued: a finished delivery is sent once more in a moment; due: one "
        "waiting for its next attempt is made due now.")
    delivery = WebhookDeliverySerializer()


class WebhookDeliveryPageSerializer(serializers.Serializer):
    results = WebhookDeliverySerializer(many=True)
    next = serializers.URLField(allow_null=True)
