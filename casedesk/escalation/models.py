"""The escalation matrix: ordered levels, each with the contacts a customer may reach."""

from django.db import models


class Level(models.Model):
    number = models.PositiveSmallIntegerField(unique=True, help_text="1 is the first level.")
    name = models.CharField(max_length=100)
    contact_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    show_on_portal = models.BooleanField(default=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Level {self.number}: {self.name}"
