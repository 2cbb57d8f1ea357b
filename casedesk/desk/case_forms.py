"""Forms of the case page's panels (merge, links, CCs) and of macros. They only validate;
changes go through casedesk.tickets.actions and casedesk.desk.macro_actions."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.desk.macros import check_body, placeholder_help
from casedesk.desk.models import Macro
from casedesk.tickets.models import Ticket


def clean_case_id(raw: str) -> int:
    text = raw.strip().lstrip("#").strip()
    if not text.isdigit() or len(text) > 18:
        raise forms.ValidationError(gettext("A Case ID is a number, like 10234."))
    return int(text)


class CaseIdForm(forms.Form):
    """One Case ID: the case to merge into, or to link."""

    case = forms.CharField(
        label=_("Case ID"), max_length=30,
        error_messages={"required": _("Type the Case ID of the other case.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_case(self) -> int:
        return clean_case_id(self.cleaned_data["case"])


class CcForm(forms.Form):
    addresses = forms.CharField(
        label=_("Copy someone"), max_length=2000,
        help_text=_("One or more email addresses, separated by commas."),
        error_messages={"required": _("Type at least one email address to copy.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "name@example.com", "dir": "ltr"}
        ),
    )


class MacroForm(forms.ModelForm):
    shared = forms.BooleanField(
        required=False, label=_("Shared with every agent"),
        help_text=_("Unticked: only you see it."),
    )

    class Meta:
        model = Macro
        fields = ["name", "body", "status", "priority"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8, "dir": "auto"})}
        labels = {
            "name": _("Name"), "body": _("Reply text"), "status": _("Then set status to"),
            "priority": _("Then set priority to"),
        }

    def __init__(self, *args: Any, agent: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.fields["body"].help_text = gettext("Placeholders: %(names)s.") % {
            "names": placeholder_help()
        }
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            ("", gettext("Leave as it is")), *Ticket.Status.choices
        ]
        cast(forms.ChoiceField, self.fields["priority"]).choices = [
            ("", gettext("Leave as it is")), *Priority.choices
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
                if owner is None:
                    clash_text = gettext("There is already a shared macro called “%(name)s”.")
                else:
                    clash_text = gettext("There is already a macro of yours called “%(name)s”.")
                self.add_error("name", clash_text % {"name": name})
        return data
