"""What every endpoint shares: who is asking, rate limits, Idempotency-Key, cursors.

- Rate limits: CASEDESK_API_RATE_LIMIT requests per token per minute, a fixed window
  counted in Django's cache; every answer carries RateLimit-Limit, RateLimit-Remaining,
  RateLimit-Reset (seconds) and RateLimit-Policy (IETF draft "RateLimit header fields"),
  and a request over the limit gets 429 with Retry-After.
- Idempotency-Key: see `ApiView.idempotent`.
- Cursors: opaque, signed with the site's key, bound to the filters they were made for.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from casedesk.accounts.models import ApiToken, User
from casedesk.api.models import IdempotencyKey
from casedesk.api.problems import Problem
from casedesk.desk.cursor import decode_key, encode_key

RATE_WINDOW = 60
IDEMPOTENCY_HOURS = 24
KEY_MAX = 255
CURSOR_SALT = "casedesk.api.cursor"


class ApiView(APIView):
    # OPTIONS answers 405 (through http_method_not_allowed): the schema describes the API.
    metadata_class = None
    # The query parameters each method reads; any other is refused (400) rather than
    # ignored, so a misspelt filter never silently returns everything.
    query_parameters: dict[str, frozenset[str]] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        allowed = self.query_parameters.get((request.method or "").lower(), frozenset())
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise Problem(400, f"Unknown query parameter: {', '.join(unknown)}.", errors=[
                {"field": name, "message": "Not a parameter of this endpoint."}
                for name in unknown
            ])
        empty = sorted(name for name, value in request.query_params.items() if not value)
        if empty:
            raise Problem(400, f"No value given for {', '.join(empty)}.", errors=[
                {"field": name, "message": "Give a value, or leave the parameter out."}
                for name in empty
            ])
    def person(self) -> User:
        # IsAuthenticated (the default permission) has let only token holders through.
        return cast(User, self.request.user)

    def token(self) -> ApiToken:
        return cast(ApiToken, self.request.auth)

    def is_agent(self) -> bool:
        return self.person().is_agent

    def http_method_not_allowed(  # type: ignore[override]
        self, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        # A case the token may not see answers 404 to every method, even one the address
        # does not support: a 405 would tell that the Case ID exists.
        if "case_id" in kwargs:
            from casedesk.api.cases import get_case

            get_case(self.person(), kwargs["case_id"])
        return super().http_method_not_allowed(request, *args, **kwargs)

    def rate_subject(self, request: Request) -> str | None:
        """Whose allowance a request counts against: its token's (None: not counted)."""
        token = request.auth
        return f"token:{token.pk}" if isinstance(token, ApiToken) else None

    def check_throttles(self, request: Request) -> None:
        subject = self.rate_subject(request)
        if subject is None:
            return
        limit = settings.CASEDESK_API_RATE_LIMIT
        now = time.time()
        start = int(now // RATE_WINDOW) * RATE_WINDOW
        key = f"casedesk:api:rate:{subject}:{start}"
        # add() then incr(): both atomic in Redis and memcached; the first request of a
        # window creates the counter, every request increments it.
        cache.add(key, 0, timeout=RATE_WINDOW + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, timeout=RATE_WINDOW + 5)
            count = 1
        reset = max(1, int(start + RATE_WINDOW - now + 0.999))
        remaining = max(0, limit - count)
        self.headers.update({
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": f"{limit};w={RATE_WINDOW}",
        })
        if count > limit:
            raise exceptions.Throttled(
                wait=reset,
                detail=f"This {'token' if subject.startswith('token:') else 'address'} may "
                f"make {limit} requests a minute; try again in "
                f"{reset} s.",
            )

    # ------------------------------------------------------------ Idempotency-Key

    def idempotent(self, request: Request, create: Callable[[], Response]) -> Response:
        """Run `create` once per Idempotency-Key (per token, for 24 hours).

        The key's row is inserted first, in the same transaction as everything `create`
        writes, and holds the response once it succeeded. A second request with the key
        blocks on the row's unique index until the first commits (PostgreSQL), or waits
        for the database's write lock (SQLite), then finds the row: the same body gets the
        first response again (`Idempotent-Replayed: true`) and changes nothing; another
        body gets 422. A request that failed (any error) leaves no row, so it can be
        retried with the same key.
        """
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return create()
        if not 1 <= len(key) <= KEY_MAX or not key.isascii() or not key.isprintable():
            raise Problem(400, f"An Idempotency-Key is 1 to {KEY_MAX} printable ASCII "
                          "characters.", errors=[{"field": "Idempotency-Key",
                                                  "message": "Not a valid key."}])
        fingerprint = request_fingerprint(request)
        token = self.token()
        now = timezone.now()
        with transaction.atomic():
            IdempotencyKey.objects.filter(
                token=token, created_at__lt=now - timedelta(hours=IDEMPOTENCY_HOURS)
            ).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        token=token, key=key, fingerprint=fingerprint, status=0, created_at=now,
                    )
            except IntegrityError:
                first = IdempotencyKey.objects.get(token=token, key=key)
                if first.fingerprint != fingerprint:
                    raise Problem(
                        422, "This Idempotency-Key was used with a different request in the "
                        "last 24 hours; use a new key for a new request.",
                        errors=[{"field": "Idempotency-Key",
                                 "message": "Already used for another request."}],
                    ) from None
                headers = {"Idempotent-Replayed": "true"}
                if first.location:
                    headers["Location"] = first.location
                return Response(first.body, status=first.status, headers=headers)
            response = create()
            if not 200 <= response.status_code < 300:
                record.delete()
                return response
            record.status = response.status_code
            record.body = response.data
            record.location = response.headers.get("Location", "")[:500]
            record.save(update_fields=["status", "body", "location"])
        return response


def request_fingerprint(request: Request) -> str:
    """The request as the key's owner meant it: method, path and parsed body (files by
    name and content), so a client library's new multipart boundary is the same body."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    data = request.data
    if hasattr(data, "lists"):
        items: list[Any] = []
        for name, values in sorted(data.lists()):
            for value in values:
                items.append([name, file_fingerprint(value)
                              if isinstance(value, UploadedFile) else str(value)])
        digest.update(json.dumps(items).encode())
    else:
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def file_fingerprint(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"file:{upload.name}:{upload.size}:{digest.hexdigest()}"


# ---------------------------------------------------------------- cursors


def make_cursor(scope: str, position: list[Any]) -> str:
    return signing.dumps({"s": hashlib.sha256(scope.encode()).hexdigest()[:16],
                          "p": [encode_key(v) for v in position]},
                         salt=CURSOR_SALT, compress=True)


def read_cursor(scope: str, raw: str) -> list[Any]:
    """The position a cursor holds; 400 for a damaged one or one made for other filters."""
    try:
        if len(raw) > 500:
            raise signing.BadSignature("too long")
        payload = signing.loads(raw, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise Problem(400, "This cursor is damaged; start again without one.",
                      errors=[{"field": "cursor", "message": "Not a cursor we made."}]) from None
    if (not isinstance(payload, dict) or not isinstance(payload.get("p"), list)
            or payload.get("s") != hashlib.sha256(scope.encode()).hexdigest()[:16]):
        raise Problem(400, "This cursor was made for other filters; start again without one.",
                      errors=[{"field": "cursor", "message": "Made for other filters."}])
    try:
        return [decode_key(v) for v in payload["p"]]
    except ValueError:
        raise Problem(400, "This cursor is damaged; start again without one.",
                      errors=[{"field": "cursor", "message": "Not a cursor we made."}]) from None


def page_links(request: Request, next_cursor: str | None) -> dict[str, str | None]:
    if next_cursor is None:
        return {"next": None}
    query = request.query_params.copy()
    query["cursor"] = next_cursor
    return {"next": request.build_absolute_uri(request.path) + "?" + query.urlencode()}


def page_size(request: Request) -> int:
    raw = request.query_params.get("page_size", "")
    default = settings.CASEDESK_API_PAGE_SIZE
    if not raw:
        return int(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise Problem(400, "page_size is a number from 1 to 100.",
                      errors=[{"field": "page_size", "message": "A number from 1 to 100."}])
    return int(raw)
