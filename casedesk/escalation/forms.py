"""Forms of escalation: the portal's Escalate a Ticket widget, and the desk's manual and
phone escalations. They only validate; casedesk.escalation.actions does the escalating.
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .actions import REASON_MAX
from .models import level_names

CASE_ID_MESSAGE = _("A Case ID is a number, like 100123.")
NEXT = "next"
PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-/]+$")


class CaseIdField(forms.CharField):
    """Digits only (a leading "#" is forgiven: people copy it from mail subjects)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("error_messages", {"required": _("Enter the Case ID.")})
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "inputmode": "numeric", "autocomplete": "off",
            "placeholder": "100123",
        }))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int:
        text = super().clean(value).strip().lstrip("#").strip()
        if not text.isdigit() or len(text) > 18:
            raise ValidationError(CASE_ID_MESSAGE, code="invalid")
        return int(text)


WHY_ESCALATE = _("Why escalate?")


def reason_field(label: Any = WHY_ESCALATE, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label, max_length=REASON_MAX, help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the case needs escalating.")},
    )


class WidgetForm(forms.Form):
    """Escalate a Ticket: the Case ID and a reason; visitors also give the requester's
    email, where the confirmation link goes."""

    case_id = CaseIdField(
        label=_("Case ID"), help_text=_("Numbers only; it is in the email we sent you.")
    )
    email = forms.EmailField(
        label=_("Requester's email"), max_length=254,
        help_text=_("The address the case was opened with: we email a link there to confirm."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    reason = reason_field(help_text=_("What is not going as it should."))

    def __init__(self, *args: Any, signed_in: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if signed_in:
            # The account says who is asking.
            del self.fields["email"]


def level_choices(current: int, *, with_next: bool) -> list[tuple[str, str]]:
    names = level_names()
    higher = [number for number in names if number > current]
    choices = []
    if with_next and higher:
        up = min(higher)
        choices.append(
            (NEXT, _("Next level: %(level)s (%(name)s)") % {"level": up, "name": names[up]})
        )
    choices += [
        (str(number), _("Level %(level)s: %(name)s") % {"level": number, "name": name})
        for number, name in names.items() if number != current
    ]
    return choices


class LevelField(forms.ChoiceField):
    def clean(self, value: Any) -> int | None:
        chosen = super().clean(value)
        return None if chosen == NEXT else int(chosen)


class EscalateForm(forms.Form):
    """An agent's escalation: the next level, or any other level on purpose."""

    to_level = LevelField(
        label=_("Escalate to"),
        help_text=_("Choosing a level on purpose skips the cool-down between escalations."),
    )
    reason = reason_field(label=_("Reason"), help_text=_("The customer sees it on the portal."))

    prefix = "escalate"

    def __init__(self, *args: Any, current: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(LevelField, self.fields["to_level"])
        field.choices = level_choices(current, with_next=True)
        if field.choices:
            field.initial = field.choices[0][0]


class PhoneEscalationForm(EscalateForm):
    """A customer called to escalate: who, from which number, why."""

    caller_name = forms.CharField(
        label=_("Caller"), max_length=150,
        error_messages={"required": _("Who called? Enter their name.")},
    )
    caller_phone = forms.CharField(
        label=_("Their number"), max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        error_messages={"required": _("Enter the number they called from.")},
    )

    prefix = "phone"
    field_order = ["caller_name", "caller_phone", "to_level", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _("In the caller's words. The customer sees it.")

    def clean_caller_phone(self) -> str:
        phone = self.cleaned_data["caller_phone"].strip()
        digits = sum(c.isdigit() for c in phone)
        if not PHONE_CHARACTERS.match(phone) or digits < 5 or digits > 20:
            raise ValidationError(
                _("Enter a phone number: digits, spaces and + ( ) - only, like "
                  "+971 50 555 0101.")
            )
        return phone
