"""Site-wide settings an admin edits: branding and how customers reach support."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CACHE_KEY = "casedesk:site-configuration"
# Inside SiteConfiguration.held(): the configuration read once for the whole block.
_held: ContextVar[dict[str, SiteConfiguration] | None] = ContextVar(
    "casedesk_site_configuration_held", default=None
)


class SiteConfiguration(models.Model):
    """One row: the company name, logo and support contacts the portal shows."""

    company_name = models.CharField(max_length=100, default="casedesk")
    logo = models.FileField(
        upload_to="branding/", blank=True,
        help_text="PNG, JPEG or SVG, shown at the top left of every page.",
    )
    support_phone = models.CharField(max_length=40, default="+44 808 175 0480", blank=True)
    support_email = models.EmailField(blank=True)
    portal_welcome = models.TextField(
        blank=True,
        default="Our engineers answer around the clock. Open a case and we will keep you "
        "informed by email at every step.",
    )

    class Meta:
        verbose_name = "site configuration"
        verbose_name_plural = "site configuration"

    def __str__(self) -> str:
        return "Site configuration"

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        cache.delete(CACHE_KEY)
        held = _held.get()
        if held is not None:
            held.clear()

    @classmethod
    def current(cls) -> SiteConfiguration:
        """The configuration, cached per process for a minute (read on every page), or,
        inside held(), the one read first in the block."""
        held = _held.get()
        if held is not None:
            config = held.get("config")
            if config is None:
                config = held["config"] = cls._cached()
            return config
        return cls._cached()

    @classmethod
    def _cached(cls) -> SiteConfiguration:
        config = cache.get(CACHE_KEY)
        if config is None:
            config = cls.objects.filter(pk=1).first() or cls(pk=1)
            cache.set(CACHE_KEY, config, 60)
        return config

    @staticmethod
    @contextmanager
    def held() -> Iterator[None]:
        """current() reads the configuration once for the whole block (a batch of
        received mail, which queues an acknowledgement or an invitation for most new
        cases): each read from the cache unpickled it again (~20 us per mail), or asked
        Redis. The block sees the configuration as it was at its first read, as one
        request sees it; a save in the block is seen at the next read."""
        token = _held.set({})
        try:
            yield
        finally:
            _held.reset(token)


class ScheduledRun(models.Model):
    """When a periodic task (casedesk.core.schedule) is next due, shared by every worker.

    A worker enqueues a tick only if its conditional UPDATE moved `next_run_at` forward
    (one row changed): of several workers polling at once, exactly one wins each tick.
    """

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M:%S})"


class WorkerHeartbeat(models.Model):
    """A running `casedesk worker`: it writes `seen_at` every few seconds (casedesk.core.lease).

    A job is RUNNING under the lease of the worker that claimed it; once that worker's
    heartbeat is older than CASEDESK_JOB_LEASE_SECONDS, another worker puts the job back
    in the queue.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["worker_id"]

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname} (pid {self.pid})"


class AuditEntry(models.Model):
    """One change to who may do what (a user's role or rights, a token, a webhook, the
    escalation matrix, an SLA plan) or any change made in the admin site: who, when, from
    where, through which door, and the changed fields before and after. Written in the
    transaction of the change (casedesk.core.audit); never edited, never deleted."""

    class Via(models.TextChoices):
        ADMIN = "admin", _("admin site")
        DESK = "desk", _("desk")
        API = "api", _("API")
        PORTAL = "portal", _("portal")
        CLI = "cli", _("command line or worker")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # The person is kept by name too: the entry outlives a deleted account.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices)
    action = models.CharField(max_length=40, db_index=True)
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # {"field": [before, after]}; for many-to-many fields the lists of names.
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit history")
        indexes = [models.Index(fields=["actor", "-id"], name="audit_actor_id")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email or '-'} {self.action} " \
               f"{self.object_type} {self.object_id}"
