"""Changes to webhook subscriptions and deliveries. Views (and any later API) call these;
they validate what they are given and raise SubscriptionError, changing nothing, when it
is wrong."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import Organization, User
from casedesk.webhooks.access import is_webhook_admin, manages_organization_webhooks
from casedesk.webhooks.destinations import UnsafeDestination, check_url
from casedesk.webhooks.fanout import event_head
from casedesk.webhooks.models import Delivery, EventType, Subscription

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
# Subscriptions an organization's own contacts can make for it (admins are not bounded).
ORGANIZATION_LIMIT = 10


class SubscriptionError(ValueError):
    """What is wrong with a subscription, by field, for the person who asked."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@dataclass
class SubscriptionData:
    url: str
    events: list[str]
    organization: Organization | None = None
    description: str = ""
    is_active: bool = True


def check_subscription(data: SubscriptionData) -> None:
    errors: dict[str, str] = {}
    try:
        check_url(data.url)
    except UnsafeDestination as refused:
        errors["url"] = str(refused)
    if len(data.url.strip()) > 2000:
        errors["url"] = str(_("The URL is too long (2,000 characters at most)."))
    unknown = [e for e in data.events if e not in EventType.values]
    if not data.events:
        errors["events"] = str(_("Choose at least one event."))
    elif unknown:
        errors["events"] = str(_("Unknown event: %(name)s.") % {"name": unknown[0]})
    if errors:
        raise SubscriptionError(errors)


def _ordered_events(events: list[str]) -> list[str]:
    return [e for e in EventType.values if e in events]


def check_subscriber(data: SubscriptionData, actor: User) -> None:
    """SubscriptionError unless `actor` may make this subscription: admins any, an
    organization's webhook managers (casedesk.webhooks.access) one scoped to it."""
    if is_webhook_admin(actor):
        return
    if not manages_organization_webhooks(actor):
        raise SubscriptionError({"organization": str(_(
            "Only contacts who see all of their organization's cases manage its webhooks."))})
    if data.organization is None or data.organization.pk != actor.organization_id:
        raise SubscriptionError({"organization": str(_(
            "You can subscribe to your own organization's cases only."))})


def create_subscription(data: SubscriptionData, actor: User) -> tuple[Subscription, str]:
    """A new subscription and its secret (shown to whoever made it, once)."""
    check_subscription(data)
    check_subscriber(data, actor)
    secret = new_secret()
    with transaction.atomic():
        if not is_webhook_admin(actor) and data.organization is not None:
            # Every subscription multiplies the fan-out's work: an organization's own
            # managers make a bounded number. The organization's row is locked so that
            # two made at once are counted one after the other.
            Organization.objects.select_for_update().filter(pk=data.organization.pk).first()
            made = Subscription.objects.filter(organization=data.organization).count()
            if made >= ORGANIZATION_LIMIT:
                raise SubscriptionError({"organization": str(_(
                    "Your organization has %(count)s webhook subscriptions, the most it can "
                    "have; delete one first.") % {"count": made})})
        # From the next event on: nothing that happened before it existed is sent to it.
        head = event_head()
        subscription = Subscription.objects.create(
            url=data.url.strip(), events=_ordered_events(data.events),
            organization=data.organization, description=data.description.strip(),
            is_active=data.is_active, secret=secret, start_after_event_id=head,
            created_by=actor,
        )
    return subscription, secret


def update_subscription(subscription_id: int, data: SubscriptionData) -> Subscription:
    check_subscription(data)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
        subscription.url = data.url.strip()
        subscription.events = _ordered_events(data.events)
        subscription.organization = data.organization
        subscription.description = data.description.strip()
        subscription.is_active = data.is_active
        subscription.updated_at = timezone.now()
        subscription.save()
    return subscription


def change_subscription(subscription_id: int, **changes: Any) -> Subscription:
    """Some of a subscription's fields (url, events, description, is_active) changed and
    the rest kept as they are when the row is locked: two partial changes at once each
    keep the other's. SubscriptionError, changing nothing, as update_subscription."""
    with transaction.atomic():
        current = Subscription.objects.select_for_update().get(pk=subscription_id)
        return update_subscription(subscription_id, SubscriptionData(
            url=changes.get("url", current.url),
            events=list(changes.get("events", current.events)),
            organization=current.organization,
            description=changes.get("description", current.description),
            is_active=changes.get("is_active", current.is_active),
        ))


def roll_secret(subscription_id: int) -> str:
    """A new secret for the subscription, used from its next attempt on."""
    secret = new_secret()
    Subscription.objects.filter(pk=subscription_id).update(
        secret=secret, updated_at=timezone.now()
    )
    return secret


def delete_subscription(subscription_id: int) -> None:
    """The subscription and its deliveries go; a delivery being sent right now finishes."""
    Subscription.objects.filter(pk=subscription_id).delete()


def replay(delivery: Delivery) -> str:
    """A replay: an admin's on the desk, a subscription's manager's over the API. A
    finished delivery (delivered or failed) is sent once more by a job; one still waiting
    for its next attempt is made due now. Returns what was done: "queued" or "due"."""
    if delivery.is_done:
        from casedesk.webhooks.jobs import replay_delivery

        pk = str(delivery.pk)
        transaction.on_commit(lambda: replay_delivery.enqueue(pk))
        return "queued"
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )
    return "due"
