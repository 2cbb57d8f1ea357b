"""API tokens: made, listed, revoked, and checked for the REST API's bearer authentication.

A token reads `cd_<prefix>_<secret>`: the prefix tells tokens apart on a list, the whole
string is the secret. It is shown once, when made; only its SHA-256 hash is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from casedesk.accounts.models import ApiToken, User, hash_token

TOKEN_START = "cd_"  # noqa: S105 - the tokens' visible start, not a secret
# last_used_at is written at most this often per token: one write per request would put
# every API read behind SQLite's single write lock.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_EXPIRY_DAYS = 3650
NAME_MAX = 100


class TokenError(Exception):
    """The token cannot be made or changed; the message is for the person who asked."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token, to show once


def create_token(
    user: User, *, name: str = "", expires_days: int | None = None,
    created_by: User | None = None,
) -> NewToken:
    """A new token acting as `user`. Only active agents and contacts get one."""
    if not user.is_active:
        raise TokenError(f"{user.email} is deactivated; an API token would not work for them.")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise TokenError(f"A token's name is at most {NAME_MAX} characters.")
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise TokenError(f"A token expires after 1 to {MAX_EXPIRY_DAYS} days.")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, token_hash=hash_token(secret), created_at=now,
        created_by=created_by,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    return NewToken(token=token, secret=secret)


def tokens_managed_by(user: User) -> QuerySet[ApiToken]:
    """The tokens `user` may see and revoke: their own; an admin (staff) agent's, everyone's."""
    tokens = ApiToken.objects.select_related("user")
    if user.is_agent and user.is_staff:
        return tokens
    return tokens.filter(user=user)


def revoke_token(token_id: int, *, by: User | None) -> ApiToken:
    """Revoke a token at once (for good). `by` None: from the command line. Revoking a
    revoked token changes nothing."""
    with transaction.atomic():
        tokens = ApiToken.objects.select_for_update()
        if by is not None:
            tokens = tokens.filter(pk__in=tokens_managed_by(by).values("pk"))
        token = tokens.filter(pk=token_id).first()
        if token is None:
            raise TokenError(f"There is no API token {token_id} you can revoke.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def authenticate(secret: str) -> ApiToken | None:
    """The usable token this secret is, with its user (and organization) loaded; None
    for an unknown, revoked or expired token, or one whose user cannot sign in."""
    if not secret.startswith(TOKEN_START) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__organization")
        .filter(token_hash=hash_token(secret)).first()
    )
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # Conditional: of many requests at once, one writes.
        ApiToken.objects.filter(pk=token.pk).exclude(
            last_used_at__gt=now - LAST_USED_PRECISION
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
