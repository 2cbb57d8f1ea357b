"""Creating and changing organizations and contacts outside the admin site (the REST API).

The admin site edits these through its forms; these functions do the same with the same
side effects (a new plan recomputes the organization's open cases' SLA clocks once the
change commits).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from casedesk.accounts.models import Organization, User, normalize_email
from casedesk.sla.clocks import schedule_recompute

ORGANIZATION_FIELDS = frozenset(
    {"name", "plan", "email_domains", "org_wide_visibility", "time_zone", "language"}
)
CONTACT_FIELDS = frozenset({"full_name", "phone", "organization", "language"})


class DirectoryError(Exception):
    """The change would break a rule (a duplicate name or address); `field` says where."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def create_organization(**fields: Any) -> Organization:
    unknown = set(fields) - ORGANIZATION_FIELDS
    if unknown:
        raise ValueError(f"Not organization fields: {sorted(unknown)}")
    organization = Organization(**fields)
    try:
        with transaction.atomic():
            organization.save(force_insert=True)
    except IntegrityError:
        raise DirectoryError(
            f"An organization named “{organization.name}” already exists.", field="name"
        ) from None
    return organization


def update_organization(organization_id: int, **changes: Any) -> Organization:
    """Change the given fields; a new plan recomputes the open cases' SLA clocks."""
    unknown = set(changes) - ORGANIZATION_FIELDS
    if unknown:
        raise ValueError(f"Not organization fields: {sorted(unknown)}")
    try:
        with transaction.atomic():
            organization = Organization.objects.select_for_update().get(pk=organization_id)
            changed = [f for f, v in changes.items() if getattr(organization, f) != v]
            for field in changed:
                setattr(organization, field, changes[field])
            if changed:
                organization.save(update_fields=changed)
            if "plan" in changed:
                schedule_recompute(organization_id=organization.pk)
    except IntegrityError:
        raise DirectoryError(
            f"An organization named “{changes.get('name')}” already exists.", field="name"
        ) from None
    return organization


def create_contact(
    *, email: str, full_name: str, phone: str = "", organization: Organization | None = None,
    language: str = "",
) -> User:
    """A contact who cannot sign in yet (their first case invites them, as on the portal)."""
    user = User(
        email=normalize_email(email), full_name=full_name.strip()[:150],
        phone=phone.strip()[:40], organization=organization, language=language,
        role=User.Role.CONTACT,
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        raise DirectoryError(
            f"Someone with the address {user.email} already exists.", field="email"
        ) from None
    return user


def update_contact(contact_id: int, **changes: Any) -> User:
    unknown = set(changes) - CONTACT_FIELDS
    if unknown:
        raise ValueError(f"Not contact fields: {sorted(unknown)}")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=contact_id, role=User.Role.CONTACT)
        changed = [f for f, v in changes.items() if getattr(user, f) != v]
        for field in changed:
            setattr(user, field, changes[field])
        if changed:
            user.save(update_fields=changed)
    return user
