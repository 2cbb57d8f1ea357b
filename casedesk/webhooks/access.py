"""Who manages which webhook subscriptions, in one place (the API calls these; the desk's
pages are for admins and see every subscription).

- Admins (agents with admin rights): every subscription, global or scoped.
- A partner organization's contacts who see all of its cases in the portal (the
  organization's setting, or their own override): the subscriptions scoped to their
  organization, whoever made them. A subscription hears of every case of the
  organization, so only someone who may already read every one of them may make one; a
  contact who sees only their own cases would otherwise learn of their colleagues'.
- Anyone else: none. A subscription outside what someone manages answers 404, exactly
  like one that does not exist.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from casedesk.accounts.models import User
from casedesk.webhooks.models import Subscription


class NotAllowed(PermissionError):
    """This person manages no subscriptions; the message says who does."""


def is_webhook_admin(user: User) -> bool:
    return user.is_agent and (user.is_staff or user.is_superuser)


def manages_organization_webhooks(user: User) -> bool:
    return (user.is_active and user.role == User.Role.CONTACT
            and user.organization_id is not None and user.sees_organization_cases())


def check_manager(user: User) -> None:
    """NotAllowed unless `user` manages some subscriptions."""
    if is_webhook_admin(user) or manages_organization_webhooks(user):
        return
    if user.is_agent:
        raise NotAllowed(_("Only admins manage webhooks."))
    raise NotAllowed(_(
        "Only contacts who see all of their organization's cases manage its webhooks; ask "
        "your organization's administrator or our support team."
    ))


def subscriptions_managed_by(user: User) -> QuerySet[Subscription]:
    check_manager(user)
    if is_webhook_admin(user):
        return Subscription.objects.all()
    # A manager always has an organization (manages_organization_webhooks).
    return Subscription.objects.filter(organization=user.organization)


def get_subscription_for_manager(user: User, subscription_id: int) -> Subscription:
    found = subscriptions_managed_by(user).filter(pk=subscription_id).first()
    if found is None:
        raise Http404(_("No such webhook subscription."))
    return found
