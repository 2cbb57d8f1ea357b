"""The desk's own data: saved queue views, agents' macros (canned replies) and who is on a
case right now."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from casedesk.core.choices import Priority
from casedesk.tickets.models import Ticket


class Macro(models.Model):
    """A canned reply with placeholders (casedesk.desk.macros), that may also set the
    case's status and priority when the reply is sent. Personal (owner set) or shared with
    every agent (owner empty)."""

    name = models.CharField(max_length=100)
    body = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="macros",
    )
    status = models.CharField(
        max_length=10, choices=Ticket.Status.choices, blank=True,
        verbose_name="Then set status to",
    )
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, null=True, blank=True, verbose_name="Then set priority to",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="macro_unique_personal"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(owner__isnull=True),
                name="macro_unique_shared",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def shared(self) -> bool:
        return self.owner_id is None


class Presence(models.Model):
    """An agent on a case page: viewing or typing, as of `seen_at`.

    In the database rather than Django's cache: the default cache is per process, and
    `casedesk serve` runs several gunicorn workers, so a ping and the next agent's read
    would often meet different caches. One row per agent and case, overwritten by each
    ping (casedesk.desk.presence).
    """

    class State(models.TextChoices):
        VIEWING = "viewing", "viewing"
        TYPING = "typing", "typing"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    state = models.CharField(max_length=10, choices=State.choices)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "agent"], name="presence_unique"),
        ]
        indexes = [models.Index(fields=["seen_at"], name="presence_seen")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.state} #{self.ticket_id}"


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
