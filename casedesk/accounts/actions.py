"""Creating contacts and inviting them to the portal."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import (
    Invitation,
    Organization,
    User,
    hash_token,
    normalize_email,
    organization_of,
)
from casedesk.core import rows
from casedesk.core.paths import path_for
from casedesk.mail.actions import queue_mail
from casedesk.mail.models import OutboundMail


def organization_for_email(email: str) -> Organization | None:
    """The organization whose email domains include this address's domain, if exactly one."""
    domain = normalize_email(email).rpartition("@")[2]
    if not domain:
        return None
    # What email_domains__icontains=domain runs, written out (as rows.select does): every
    # new contact reads it, and compiling the ORM's query cost more than running it.
    pattern = "%" + domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if connection.vendor == "postgresql":
        where = "UPPER(email_domains::text) LIKE UPPER(%s)"
    else:
        where = "email_domains LIKE %s ESCAPE '\\'"
    matches = [
        org for org in rows.select(Organization, where, [pattern])
        if domain in org.domain_list()
    ]
    return matches[0] if len(matches) == 1 else None


def get_or_create_contact(
    *, email: str, full_name: str, phone: str = "", known_new: bool = False,
) -> tuple[User, bool]:
    """The contact with this address, created (and joined to its organization) if new.

    Expects to run inside a transaction: two submissions from one new address at once
    must make one contact, which the unique email constraint guarantees (the loser of the
    race reads the winner's row). `known_new`: the caller looked the address up in this
    transaction and found nobody; the insert is tried at once (a contact made meanwhile
    by another transaction is then read as below).
    """
    email = normalize_email(email)
    if not known_new:
        found = rows.select(User, "email = %s", [email])
        if found:
            return found[0], False
    user = User(
        email=email, full_name=full_name.strip()[:150], phone=phone.strip()[:40],
        role=User.Role.CONTACT, organization=organization_for_email(email),
    )
    user.set_unusable_password()
    # rows.insert_new, as rows.insert for a case's rows: every new sender by email is one,
    # and compiling the ORM's INSERT cost more than running it (no password was set, so
    # AbstractBaseUser.save would have nothing more to do). ON CONFLICT DO NOTHING rather
    # than a savepoint around the insert: two statements fewer, and losing the race below
    # leaves the caller's transaction usable all the same.
    if not rows.insert_new(user, "email"):
        # Another submission from this address inserted it first: the unique index made us
        # wait for its commit, so (read committed) its row is visible now.
        return User.objects.get(email=email), False
    return user, True


def needs_invitation(user: User) -> bool:
    """A contact who cannot sign in yet and holds no usable invitation gets one."""
    if user.has_usable_password() or not user.is_active:
        return False
    # In SQL: every case a known contact opens by email asks (see rows.select).
    table = connection.ops.quote_name(Invitation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE user_id = %s AND used_at IS NULL "  # noqa: S608
            "AND expires_at > %s LIMIT 1",
            [user.pk, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return cursor.fetchone() is None


def invite(user: User, *, reason: str = "first_case", case_id: int | None = None) -> str:
    """Create an invitation and queue its mail. Returns the raw token (only ever mailed)."""
    token = secrets.token_urlsafe(32)
    # rows.insert, as for a case's rows: every new contact by email is invited.
    rows.insert(Invitation(
        user=user, token_hash=hash_token(token),
        expires_at=timezone.now() + timedelta(days=settings.CASEDESK_INVITATION_DAYS),
    ))
    link = settings.CASEDESK_BASE_URL + path_for("accounts:invitation", token)
    organization = organization_of(user)
    queue_mail(
        kind=OutboundMail.Kind.INVITATION,
        to=user.email,
        reader=user,
        subject=_("Your invitation to the support portal"),
        template="accounts/mail/invitation.txt",
        # Plain values, not the person: the template is rendered once per language and
        # these put back (casedesk.mail.pieces).
        context={
            "name": user.get_short_name(), "email": user.email,
            "organization": organization.name if organization else None,
            "link": link, "days": settings.CASEDESK_INVITATION_DAYS, "case_id": case_id,
        },
        headers={"Auto-Submitted": "auto-generated"},
    )
    return token


class InvitationError(Exception):
    """The link is unknown, used or expired; the message says which, for the visitor."""


def find_invitation(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("user").filter(token_hash=hash_token(token)).first()
    )
    if invitation is None or not invitation.user.is_active:
        raise InvitationError(
            _("This invitation link is not valid. Check that you copied the whole link from "
              "the email, or ask for a new one with “Forgot your password?”.")
        )
    if invitation.used_at is not None:
        raise InvitationError(
            _("This invitation link has already been used. Sign in with your email address "
              "and password, or use “Forgot your password?”.")
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationError(
            _("This invitation link has expired. Use “Forgot your password?” with your email "
              "address to get a new link.")
        )
    return invitation


def accept_invitation(token: str, password: str) -> User:
    """Set the contact's password and spend the invitation, once.

    Raises InvitationError for a bad link and ValidationError for a weak password; in both
    cases nothing changes.
    """
    with transaction.atomic():
        invitation = find_invitation(token)
        user = invitation.user
        validate_password(password, user)
        # The conditional update is the single-use guarantee: of two requests racing with
        # the same link, only one changes the row.
        spent = Invitation.objects.filter(pk=invitation.pk, used_at=None).update(
            used_at=timezone.now()
        )
        if spent != 1:
            raise InvitationError(_("This invitation link has already been used."))
        user.set_password(password)
        user.save(update_fields=["password"])
        return user



def reset_password(user: User, password: str) -> User:
    """Set a password chosen through a reset link, and spend the user's open invitations.

    A contact whose invitation expired recovers through password reset; once they have a
    password, an older invitation link still sitting in their mailbox must not be able to
    replace it. The caller has validated the password (the form does, next to the field).
    """
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        user.invitations.filter(used_at=None).update(used_at=timezone.now())
    return user


def save_reading_preferences(
    user: User, *, language: str | None = None, time_zone: str | None = None
) -> User:
    """Save the language and/or time zone a person reads casedesk in ("" means "as my
    organization says"). The caller has checked the values (forms, the language menu)."""
    fields = []
    if language is not None:
        user.language = language
        fields.append("language")
    if time_zone is not None:
        user.time_zone = time_zone
        fields.append("time_zone")
    if fields:
        user.save(update_fields=fields)
    return user
