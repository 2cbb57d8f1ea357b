"""Forms of the case page's panels (merge, links, CCs) and of macros. They only validate;
changes go through casedesk.tickets.actions and casedesk.desk.macro_actions."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.desk.macros import check_body, placeholder_help
from casedesk.desk.models import Macro
from casedesk.tickets.models import Ticket


def clean_case_id(raw: str) -> int:
    text = raw.strip().lstrip("#").strip()
    if not text.isdigit() or len(text) > 18:
        raise forms.ValidationError("A Case ID is a number, like 10234.")
    return int(text)


class CaseIdForm(forms.Form):
    """One Case ID: the case to merge into, or to link."""

    case = forms.CharField(
        label="Case ID", max_length=30,
        error_messages={"required": "Type the Case ID of the other case."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_case(self) -> int:
        return clean_case_id(self.cleaned_data["case"])


class CcForm(forms.Form):
    addresses = forms.CharField(
        label="Copy someone", max_length=2000,
        help_text="One or more email addresses, separated by commas.",
        error_messages={"required": "Type at least one email address to copy."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
    )


class MacroForm(forms.ModelForm):
    shared = forms.BooleanField(
        required=False, label="Shared with every agent",
        help_text="Unticked: only you see it.",
    )

    class Meta:
        model = Macro
        fields = ["name", "body", "status", "priority"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
        labels = {"body": "Reply text"}

    def __init__(self, *args: Any, agent: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.fields["body"].help_text = f"Placeholders: {placeholder_help()}."
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            ("", "Leave as it is"), *Ticket.Status.choices
        ]
        cast(forms.ChoiceField, self.fields["priority"]).choices = [
            ("", "Leave as it is"), *((v, str(label)) for v, label in Priority.choices)
        ]
        if self.instance.pk is not None:
            self.fields["shared"].initial = self.instance.shared

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        check_body(body)
        return body

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("name")
        if name:
            owner = None if data.get("shared") else self.agent
            clash = Macro.objects.filter(name__iexact=name, owner=owner).exclude(
                pk=self.instance.pk
            )
            if clash.exists():
                where = "shared macro" if owner is None else "macro of yours"
                self.add_error("name", f"There is already a {where} called “{name}”.")
        return data
