"""The customer portal's forms: submitting a case, replying, and filtering the case list.

Every form checks its input on the server; attachments are checked by content through
casedesk.core.files, and the checked files are what the actions receive.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import User
from casedesk.core.choices import PRIORITY_DESCRIPTIONS, PRIORITY_SLUGS, Priority
from casedesk.core.files import CheckedFile, check_uploads
from casedesk.core.forms import MultipleFileField
from casedesk.tickets.models import Category, Ticket

DESCRIPTION_MAX = 50_000
ATTACHMENTS_HELP = _(
    "Screenshots, logs or documents; several files at once. Each is checked: its content "
    "must match its name."
)
class PriorityCards(forms.RadioSelect):
    """The four levels as cards: label, the process's description, the plan's target."""

    template_name = "portal/widgets/priority_cards.html"
    option_template_name = "portal/widgets/priority_card.html"

    def __init__(self, *args: Any, targets: dict[int, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = targets or {}

    def create_option(
        self, name: str, value: Any, label: Any, selected: bool, index: int,
        subindex: int | None = None, attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        number = int(value)
        option["description"] = PRIORITY_DESCRIPTIONS.get(number, "")
        option["target"] = self.targets.get(number, "")
        option["slug"] = PRIORITY_SLUGS.get(number, "")
        return option


class AttachmentsMixin:
    """Checks the attachments field as one set: count, size, emptiness and content."""

    cleaned_data: dict[str, Any]

    def clean_attachments(self) -> list[CheckedFile]:
        return check_uploads(self.cleaned_data.get("attachments") or [])


class SubmitForm(AttachmentsMixin, forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(
        label=_("Email address"), max_length=254,
        help_text=_("We send the Case ID and every answer here."),
    )
    organization_name = forms.CharField(label=_("Organization"), max_length=200, required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    subject = forms.CharField(
        label=_("Subject"), max_length=200, help_text=_("One line that says what is wrong.")
    )
    category = forms.ChoiceField(label=_("Category"))
    priority = forms.TypedChoiceField(
        label=_("Priority"), coerce=int, choices=Priority.choices, widget=PriorityCards,
    )
    description = forms.CharField(
        label=_("Description"), max_length=DESCRIPTION_MAX,
        help_text=_("What happened, since when, and what you already tried."),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    attachments = MultipleFileField(
        label=_("Attachments"), required=False, help_text=ATTACHMENTS_HELP,
    )

    def __init__(
        self,
        *args: Any,
        user: User | None = None,
        categories: list[Category],
        targets: dict[int, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.categories = {str(c.pk): c for c in categories}
        category = cast(forms.ChoiceField, self.fields["category"])
        category.choices = [
            ("", _("Choose a category")), *((key, c.name) for key, c in self.categories.items())
        ]
        # With no category configured the case goes in without one rather than never.
        category.required = bool(self.categories)
        cast(PriorityCards, self.fields["priority"].widget).targets = targets
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["organization_name"].widget.attrs["autocomplete"] = "organization"
        if user is not None and user.is_authenticated:
            # The account already says who is asking; asking again invites typos.
            del self.fields["full_name"]
            del self.fields["email"]
            if user.organization_id is not None:
                del self.fields["organization_name"]
            self.fields["phone"].initial = user.phone

    def clean_category(self) -> Category | None:
        key = self.cleaned_data.get("category") or ""
        return self.categories.get(key)


class ReplyForm(AttachmentsMixin, forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = MultipleFileField(
        label=_("Attachments"), required=False, help_text=ATTACHMENTS_HELP,
    )


class CaseFilterForm(forms.Form):
    """The case list's filters. A value that is not a choice is reported and ignored."""

    q = forms.CharField(
        label=_("Search"), required=False, max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Case ID or subject")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Any status")), *Ticket.Status.choices],
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any priority")), *Priority.choices],
    )
    requester = forms.TypedChoiceField(
        label=_("Requester"), required=False, coerce=int, empty_value=None, choices=[]
    )

    def __init__(self, *args: Any, requesters: list[tuple[int, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if requesters is None:
            del self.fields["requester"]
        else:
            field = cast(forms.ChoiceField, self.fields["requester"])
            field.choices = [("", _("Anyone")), *requesters]

    def value(self, name: str) -> Any:
        """The cleaned value of one filter, or None when absent or invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        if name in self.errors:
            return None
        return self.cleaned_data.get(name) or None
