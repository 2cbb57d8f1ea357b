"""What the REST API keeps of its own: the responses of POSTs sent with an Idempotency-Key."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """The first successful response to a POST with this key, from this token.

    The row is inserted in the same transaction as the change the POST makes, so it
    exists (committed) exactly when the change does: a second request with the key waits
    on the unique index until the first commits, then replays its response.
    """

    token = models.ForeignKey(
        "accounts.ApiToken", on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and parsed body: the same key with another body is an
    # error, not a replay.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_created")]

    def __str__(self) -> str:
        return f"{self.key} ({self.token_id})"
