"""The desk's own data: the queue views agents save from a set of filters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SavedView(models.Model):
    """A named set of queue filters. Personal (only its owner sees it) unless shared, then
    every agent sees it in their list of views; only the owner renames or deletes it.

    `params` holds the filters as the queue's query string has them (name -> value, all
    strings, `view` and `sort` included), and is validated by the queue's filter form each
    time it is applied: an organization or agent deleted since then shows up as a message
    beside that filter, never as an error page.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=60)
    params = models.JSONField(default=dict)
    shared = models.BooleanField(
        default=False, help_text="Shown to every agent; only its owner can change it."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="savedview_owner_name"),
        ]
        indexes = [
            # The shared views are listed for every agent on every queue page.
            models.Index(fields=["name"], condition=models.Q(shared=True),
                         name="savedview_shared"),
        ]

    def __str__(self) -> str:
        return self.name
