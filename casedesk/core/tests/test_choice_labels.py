"""get_FOO_display() through ChoiceLabels says what Django's own does, in each language."""

from __future__ import annotations

import pytest
from django.db import models
from django.utils.translation import override

from casedesk.escalation.models import Escalation
from casedesk.sla.models import Clock
from casedesk.tickets.models import Message, Ticket


def djangos(instance: models.Model, name: str) -> object:
    return models.Model._get_FIELD_display(instance, instance._meta.get_field(name))  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_labels_are_djangos_in_each_language(language: str) -> None:
    with override(language):
        for status in [*Ticket.Status.values, "no-such-status"]:
            for priority in (1, 2, 3, 4, 99):
                ticket = Ticket(status=status, priority=priority, channel="email")
                assert ticket.get_status_display() == djangos(ticket, "status")
                assert ticket.get_priority_display() == djangos(ticket, "priority")
                assert ticket.get_channel_display() == djangos(ticket, "channel")
        for source in [*Escalation._meta.get_field("source").flatchoices, ("", "")]:
            escalation = Escalation(source=source[0])
            assert escalation.get_source_display() == djangos(escalation, "source")
        for kind in [*Clock._meta.get_field("kind").flatchoices, ("nope", "")]:
            clock = Clock(kind=kind[0])
            assert clock.get_kind_display() == djangos(clock, "kind")
        message = Message(channel="email")
        assert message.get_channel_display() == djangos(message, "channel")


def test_the_language_switches_the_label() -> None:
    ticket = Ticket(status=Ticket.Status.OPEN)
    with override("en"):
        english = ticket.get_status_display()
    with override("ar"):
        arabic = ticket.get_status_display()
    assert english == "Open" and arabic != english
    assert Ticket(priority=99).get_priority_display() == 99  # not a choice: the value
