"""Support plans and their response targets per priority."""

from __future__ import annotations

from datetime import timedelta

from django.db import models

from casedesk.core.choices import Priority


class Plan(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(
        default=False, help_text="The plan of contacts without an organization."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> Plan | None:
        return cls.objects.filter(is_default=True).first() or cls.objects.order_by("pk").first()

    def first_response_target(self, priority: int) -> timedelta | None:
        target = self.targets.filter(priority=priority).first()
        if target is None:
            return None
        return timedelta(minutes=target.first_response_minutes)


class Target(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField()
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "priority"], name="sla_target_one_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.get_priority_display()}"
