"""The desk's subscription form: its checks are the action's (casedesk.webhooks.actions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import Organization
from casedesk.webhooks.actions import SubscriptionData, SubscriptionError, check_subscription
from casedesk.webhooks.models import EventType, Subscription


class SubscriptionForm(forms.Form):
    url = forms.CharField(
        label=_("Payload URL"), max_length=2000,
        help_text=_("Where casedesk POSTs each event: https://, to a public address."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.order_by("name"),
        required=False, empty_label=_("Every organization (all cases, internal notes too)"),
        help_text=_("Scoped to one organization, it receives that organization's cases "
                    "only, and only what its portal shows: never internal notes."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def for_subscription(cls, subscription: Subscription, **kwargs: Any) -> SubscriptionForm:
        return cls(initial={
            "url": subscription.url, "description": subscription.description,
            "events": subscription.events, "organization": subscription.organization,
            "is_active": subscription.is_active,
        }, **kwargs)

    def data_for_action(self) -> SubscriptionData:
        data = self.cleaned_data
        return SubscriptionData(
            url=data["url"], events=list(data["events"]), organization=data["organization"],
            description=data["description"], is_active=data["is_active"],
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            check_subscription(self.data_for_action())
        except SubscriptionError as error:
            for name, message in error.errors.items():
                self.add_error(name if name in self.fields else None, message)
        return cleaned
