"""Throttling and lockout of sign-in and password reset, per account and per address.

Counts live in the Django cache: with CASEDESK_REDIS_URL, one Redis shared by every web
node, so an attacker spreading tries over the nodes meets one count. Without it, each
process counts for itself (the embedded install runs one machine; its limits are then per
process, a few times looser).

A failure counter starts at the first failure and expires after the window; reaching the
limit sets a lock that expires after the lockout time, whatever is tried meanwhile (the
right password included). Accounts are keyed by the normalized address typed, whether or
not an account has it: a lockout tells a stranger nothing about who has an account.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from casedesk.accounts.models import normalize_email


@dataclass(frozen=True)
class Limit:
    attempts: int
    window: int  # seconds: failures are counted from the first one for this long
    lockout: int  # seconds


def signin_limits() -> dict[str, Limit]:
    window = settings.CASEDESK_SIGNIN_WINDOW_MINUTES * 60
    lockout = settings.CASEDESK_SIGNIN_LOCKOUT_MINUTES * 60
    return {
        "account": Limit(settings.CASEDESK_SIGNIN_ACCOUNT_FAILURES, window, lockout),
        "address": Limit(settings.CASEDESK_SIGNIN_ADDRESS_FAILURES, window, lockout),
    }


def reset_limits() -> dict[str, Limit]:
    window = settings.CASEDESK_RESET_WINDOW_MINUTES * 60
    return {
        "account": Limit(settings.CASEDESK_RESET_PER_EMAIL, window, window),
        "address": Limit(settings.CASEDESK_RESET_PER_ADDRESS, window, window),
    }


def _key(scope: str, kind: str, ident: str, what: str) -> str:
    # Hashed: an address typed may be long or hold characters a cache key must not.
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:40]
    return f"casedesk:throttle:{scope}:{kind}:{what}:{digest}"


def _idents(email: str, address: str) -> dict[str, str]:
    return {"account": normalize_email(email), "address": address}


class Throttle:
    """One kind of attempt (`scope`: "signin", "reset") with its limits."""

    def __init__(self, scope: str, limits: dict[str, Limit]) -> None:
        self.scope = scope
        self.limits = limits

    def locked_for(self, email: str, address: str) -> int:
        """Seconds until both the account and the address may try again; 0 if they may."""
        now = time.time()
        wait = 0.0
        for kind, ident in _idents(email, address).items():
            until = cache.get(_key(self.scope, kind, ident, "lock"))
            if until is not None:
                wait = max(wait, float(until) - now)
        return max(0, int(wait + 0.999))

    def record(self, email: str, address: str) -> None:
        """Count an attempt (a failure for sign-in, any request for reset); lock what
        reached its limit."""
        for kind, ident in _idents(email, address).items():
            limit = self.limits[kind]
            key = _key(self.scope, kind, ident, "count")
            # add() then incr(): both atomic in Redis, so concurrent failures on several
            # nodes are all counted.
            cache.add(key, 0, timeout=limit.window)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between the two calls
                cache.set(key, 1, timeout=limit.window)
                count = 1
            if count >= limit.attempts:
                cache.set(_key(self.scope, kind, ident, "lock"), time.time() + limit.lockout,
                          timeout=limit.lockout)
                cache.delete(key)

    def forgive_account(self, email: str) -> None:
        """A successful sign-in clears the account's failures, not the address's: one
        account that works must not let an address try others freely."""
        cache.delete(_key(self.scope, "account", normalize_email(email), "count"))


def signin_throttle() -> Throttle:
    return Throttle("signin", signin_limits())


def reset_throttle() -> Throttle:
    return Throttle("reset", reset_limits())
