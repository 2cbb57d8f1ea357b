"""The desk's forms: queue filters, the reply/note form and the case update form.

Forms only validate. Every change goes through casedesk.tickets.actions.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.core.files import CheckedFile, check_uploads
from casedesk.core.forms import MultipleFileField
from casedesk.desk.queue import UNASSIGNED
from casedesk.tickets.models import Ticket

MAX_BODY = 50_000


def active_agents() -> Any:
    return User.objects.filter(role=User.Role.AGENT, is_active=True).order_by(
        "full_name", "email"
    )


class QueueFilterForm(forms.Form):
    """Filters of the queue, read from the query string. An empty filter means "as the
    view says": the Open views list open statuses, "Mine" my cases, and so on."""

    q = forms.CharField(
        required=False, max_length=200, label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Case ID or subject"}),
    )
    status = forms.ChoiceField(required=False, label="Status")
    priority = forms.TypedChoiceField(
        required=False, label="Priority", coerce=int, empty_value=None
    )
    assignee = forms.ChoiceField(required=False, label="Assignee")
    organization = forms.TypedChoiceField(
        required=False, label="Organization", coerce=int, empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        view: str = "open",
        agents: list[tuple[int, str]] | None = None,
        organizations: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        any_status = "Any status" if view == "all" else "Any open status"
        self.options: dict[str, list[tuple[str, str]]] = {
            "status": [("", any_status), *((v, str(label)) for v, label in Ticket.Status.choices)],
            "priority": [
                ("", "Any priority"), *((str(v), str(label)) for v, label in Priority.choices),
            ],
            "assignee": [
                ("", "Anyone"), (UNASSIGNED, "Unassigned"),
                *((str(pk), name) for pk, name in agents or []),
            ],
            "organization": [
                ("", "Any organization"), *((str(pk), name) for pk, name in organizations or []),
            ],
        }
        for name, options in self.options.items():
            cast(forms.ChoiceField, self.fields[name]).choices = options

    def selects(self) -> list[tuple[forms.BoundField, SafeString]]:
        """The select filters with their options as ready HTML. Django's Select widget
        renders each option through a template: with a few hundred organizations that
        cost more than all of the queue's queries."""
        selects = []
        for name in ("status", "priority", "assignee", "organization"):
            bound = self[name]
            current = str(bound.value() or "")
            options = "".join(
                f'<option value="{escape(value)}"'
                f'{" selected" if str(value) == current else ""}>{escape(label)}</option>'
                for value, label in self.options[name]
            )
            # Safe: every value and label above is escaped.
            selects.append((bound, mark_safe(options)))  # noqa: S308
        return selects


class ReplyForm(forms.Form):
    KIND_CHOICES = [
        ("public", "Public reply (emailed to the requester)"),
        ("internal", "Internal note (agents only)"),
    ]

    kind = forms.ChoiceField(
        label="Send as", choices=KIND_CHOICES, initial="public", widget=forms.RadioSelect
    )
    body = forms.CharField(
        label="Message", max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write a message before sending."},
    )
    attachments = MultipleFileField(
        required=False, label="Attachments",
        help_text="Screenshots, logs or documents; several files at once.",
    )
    new_status = forms.ChoiceField(
        required=False, label="Then set status to",
        choices=[("", "Leave as it is"), *Ticket.Status.choices],
        help_text="A public reply to a new case opens it.",
    )
    new_priority = forms.TypedChoiceField(
        required=False, label="Then set priority to", coerce=int, empty_value=None,
        choices=[("", "Leave as it is"), *((str(v), str(label)) for v, label in Priority.choices)],
    )
    # The latest message on the page when the agent began: a newer public message makes
    # the reply stale (casedesk.desk.case_views.reply).
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean_attachments(self) -> list[CheckedFile]:
        return check_uploads(self.cleaned_data.get("attachments") or [])

    @property
    def internal(self) -> bool:
        return self.cleaned_data["kind"] == "internal"


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name()
        return name if obj.is_agent else f"{name} (no longer an agent)"


class UpdateForm(forms.Form):
    """Status, priority and assignee of a case.

    Each field carries the value the agent saw in a hidden input (show_hidden_initial), so
    only what this agent changed is applied: a change another agent made in the meantime
    to a field this agent left alone is kept, not overwritten.
    """

    status = forms.ChoiceField(label="Status", choices=Ticket.Status.choices)
    priority = forms.TypedChoiceField(label="Priority", coerce=int, choices=Priority.choices)
    assignee = AgentChoiceField(
        label="Assignee", queryset=User.objects.none(), required=False,
        empty_label="Unassigned",
    )

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"status": ticket.status, "priority": ticket.priority,
             "assignee": ticket.assignee_id},
        )
        super().__init__(*args, **kwargs)
        # The current assignee stays a choice even once deactivated: otherwise the select
        # would show "Unassigned" and saving any other field would unassign the case.
        cast(AgentChoiceField, self.fields["assignee"]).queryset = User.objects.filter(
            Q(role=User.Role.AGENT, is_active=True) | Q(pk=ticket.assignee_id)
        ).order_by("full_name", "email")
        for field in self.fields.values():
            field.show_hidden_initial = True
