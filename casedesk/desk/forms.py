"""The desk's forms: queue filters, saved views and bulk actions, the reply/note form and
the case update form.

Forms only validate. Every change goes through casedesk.tickets.actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from django import forms
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.core.files import CheckedFile, check_uploads
from casedesk.core.forms import MultipleFileField
from casedesk.desk import choices as desk_choices
from casedesk.desk.queue import UNASSIGNED
from casedesk.tickets.models import Ticket

MAX_BODY = 50_000


def active_agents() -> Any:
    return User.objects.filter(role=User.Role.AGENT, is_active=True).order_by(
        "full_name", "email"
    )


@lru_cache(maxsize=64)
def _unselected_options(options: tuple[tuple[str, str], ...]) -> str:
    return "".join(
        f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in options
    )


def options_html(options: Sequence[tuple[str, str]], current: Any) -> SafeString:
    """<option> elements, the current value selected, as one escaped string.

    The escaped options are kept (keyed by the options themselves, so a renamed
    organization is a new key): escaping 2,000 organizations on every queue page cost
    more than the page's queries. Only the `selected` mark is set per call."""
    html = _unselected_options(tuple(options))
    chosen = escape(str(current or ""))
    html = html.replace(f'<option value="{chosen}">', f'<option value="{chosen}" selected>', 1)
    # Safe: every value and label is escaped in _unselected_options.
    return mark_safe(html)  # noqa: S308


class OptionsSelect(forms.Select):
    """A <select> whose options come from options_html instead of a template per option:
    the case page's assignee select (200 agents) cost almost half of the page's CPU."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: Any = None) -> SafeString:
        final_attrs = {"name": name, **self.build_attrs(self.attrs, attrs)}
        options = [(str(v), str(label)) for v, label in self.choices]
        return format_html("<select{}>{}</select>", flatatt(final_attrs),
                           options_html(options, value))


class KnownChoiceField(forms.TypedChoiceField):
    """A choice field that checks a value against a set of the choices' values, set by the
    form (`known`). Django's ChoiceField normalizes the whole list when it is assigned and
    walks it to validate one value: with 2,000 organizations that was a third of the queue
    page's time. The options are rendered by options_html, not by the widget."""

    known: frozenset[str] = frozenset()

    def valid_value(self, value: Any) -> bool:
        return str(value) in self.known


SELECT_FILTERS = ("status", "priority", "assignee", "organization", "plan", "category",
                  "team", "level", "channel")
DATE_FILTERS = ("created_from", "created_to", "updated_from", "updated_to")
# Every filter of the queue, as its query string names them.
FILTER_NAMES = ("q", *SELECT_FILTERS, *DATE_FILTERS)


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        required=False, label=label, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )


Rows = tuple[tuple[int, str], ...]
Options = tuple[tuple[str, str], ...]


@lru_cache(maxsize=16)
def _filter_options(
    language: str | None, any_status: bool, agents: Rows, organizations: Rows, plans: Rows,
    categories: Rows, levels: Rows,
) -> tuple[dict[str, Options], dict[str, frozenset[str]]]:
    """The queue filters' options in `language` (the active one), and each filter's set of
    values, from the rows of the choices. Kept while the rows are the same: building them
    for 2,000 organizations on every queue page cost more than reading them."""
    options: dict[str, Options] = {
        "status": (
            ("", gettext("Any status") if any_status else gettext("Any open status")),
            *((v, str(label)) for v, label in Ticket.Status.choices),
        ),
        "priority": (
            ("", gettext("Any priority")),
            *((str(v), str(label)) for v, label in Priority.choices),
        ),
        "assignee": (
            ("", gettext("Anyone")), (UNASSIGNED, gettext("Unassigned")),
            *((str(pk), name) for pk, name in agents),
        ),
        "organization": (
            ("", gettext("Any organization")),
            *((str(pk), name) for pk, name in organizations),
        ),
        "plan": (("", gettext("Any plan")), *((str(pk), name) for pk, name in plans)),
        "category": (
            ("", gettext("Any category")), *((str(pk), name) for pk, name in categories),
        ),
        "team": (
            ("", gettext("Any team")),
            *((str(number), gettext("Level %(number)s team: %(name)s")
               % {"number": number, "name": name}) for number, name in levels),
        ),
        "level": (
            ("", gettext("Any level")),
            *((str(number), f"{number}: {name}") for number, name in levels),
        ),
        "channel": (("", gettext("Any channel")),
                    *((v, str(label)) for v, label in Ticket.Channel.choices)),
    }
    known = {name: frozenset(value for value, _label in values)
             for name, values in options.items()}
    return options, known


class QueueFilterForm(forms.Form):
    """Filters of the queue, read from the query string. An empty filter means "as the
    view says": the open views list open statuses, "My cases" my cases, and so on.

    A value that is not one of the choices (an organization deleted since a link was
    made, a typo in a URL) is an error shown beside its filter, and no cases are listed:
    ignoring it would show more cases than the agent asked for."""

    q = forms.CharField(
        required=False, max_length=200, label=_("Search"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Case ID or subject"), "dir": "auto"}
        ),
    )
    status = KnownChoiceField(required=False, label=_("Status"))
    priority = KnownChoiceField(
        required=False, label=_("Priority"), coerce=int, empty_value=None
    )
    assignee = KnownChoiceField(required=False, label=_("Assignee"))
    organization = KnownChoiceField(
        required=False, label=_("Organization"), coerce=int, empty_value=None
    )
    plan = KnownChoiceField(required=False, label=_("Plan"), coerce=int, empty_value=None)
    category = KnownChoiceField(
        required=False, label=_("Category"), coerce=int, empty_value=None
    )
    team = KnownChoiceField(
        required=False, label=_("Team"), coerce=int, empty_value=None,
        help_text=_("Cases assigned to a member of the level's team."),
    )
    level = KnownChoiceField(
        required=False, label=_("Level"), coerce=int, empty_value=None
    )
    channel = KnownChoiceField(required=False, label=_("Channel"))
    created_from = _date_field(_("Created from"))
    created_to = _date_field(_("Created to"))
    updated_from = _date_field(_("Updated from"))
    updated_to = _date_field(_("Updated to"))

    def __init__(
        self,
        *args: Any,
        view: str = "open",
        agents: list[tuple[int, str]] | None = None,
        organizations: list[tuple[int, str]] | None = None,
        plans: list[tuple[int, str]] | None = None,
        categories: list[tuple[int, str]] | None = None,
        levels: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.options, known = _filter_options(
            get_language(), view == "all", *(tuple(rows or ()) for rows in (
                agents, organizations, plans, categories, levels))
        )
        for name, values in known.items():
            cast(KnownChoiceField, self.fields[name]).known = values

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for what in ("created", "updated"):
            start, end = data.get(f"{what}_from"), data.get(f"{what}_to")
            if start and end and start > end:
                self.add_error(f"{what}_to", gettext(
                    "The end of the range is before its start (%(start)s)."
                ) % {"start": start})
        return data

    def selects(self) -> list[tuple[forms.BoundField, SafeString]]:
        """The select filters with their options as ready HTML. Django's Select widget
        renders each option through a template: with a few hundred organizations that
        cost more than all of the queue's queries."""
        return [(self[name], options_html(self.options[name], self[name].value()))
                for name in SELECT_FILTERS]

    def dates(self) -> list[forms.BoundField]:
        return [self[name] for name in DATE_FILTERS]

    def used(self) -> dict[str, str]:
        """The filters given (valid or not), as the query string has them."""
        return {name: str(self.data[name]) for name in FILTER_NAMES if self.data.get(name)}


class SavedViewForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=60, strip=True,
        error_messages={"required": _("Give the view a name.")},
    )
    shared = forms.BooleanField(
        required=False, label=_("Share with all agents"),
        help_text=_("Every agent sees it in their list of views; only you can change it."),
    )


BULK_ACTIONS = {
    "assign": _("Assign"),
    "status": _("Set status"),
    "priority": _("Set priority"),
    "escalate": _("Escalate"),
    "merge": _("Merge"),
}
MAX_BULK = 100
ME = "me"


class BulkActionForm(forms.Form):
    """One action on the cases ticked in the queue. The button pressed (`action`) says
    which; only that action's fields are required."""

    action = forms.ChoiceField(choices=list(BULK_ACTIONS.items()),
                               error_messages={"required": _("Choose an action.")})
    assignee = forms.ChoiceField(required=False, label=_("Assign to"))
    status = forms.ChoiceField(
        required=False, label=_("Status"),
        choices=[("", _("Choose a status")), *Ticket.Status.choices],
    )
    priority = forms.TypedChoiceField(
        required=False, label=_("Priority"), coerce=int, empty_value=None,
        choices=[("", _("Choose a priority")),
                 *((str(v), str(label)) for v, label in Priority.choices)],
    )
    to_level = forms.TypedChoiceField(
        required=False, label=_("To level"), coerce=int, empty_value=None,
    )
    reason = forms.CharField(required=False, label=_("Reason"), max_length=2000)
    merge_into = forms.CharField(required=False, label=_("Into case"), max_length=20)

    def __init__(self, *args: Any, agents: list[tuple[int, str]] | None = None,
                 levels: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", gettext("Choose an agent")), (ME, gettext("Me")),
            (UNASSIGNED, gettext("Nobody (unassign)")),
            *((str(pk), name) for pk, name in agents or []),
        ]
        cast(forms.ChoiceField, self.fields["to_level"]).choices = [
            ("", gettext("The next level")),
            *((str(number), f"{number}: {name}") for number, name in levels or []),
        ]
        self.case_ids: list[int] = []

    def options(self) -> dict[str, SafeString]:
        """Each select's options as ready HTML (see QueueFilterForm.selects)."""
        return {
            name: options_html(
                [(str(v), str(label)) for v, label
                 in cast(list[tuple[Any, Any]], getattr(self.fields[name], "choices", []))],
                self[name].value(),
            )
            for name in ("assignee", "status", "priority", "to_level")
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = self.data.getlist("case") if hasattr(self.data, "getlist") else []
        bad = [value for value in raw if not str(value).isdigit() or len(str(value)) > 18]
        if bad:
            raise forms.ValidationError(
                gettext("“%(value)s” is not a Case ID.") % {"value": bad[0][:20]}
            )
        self.case_ids = sorted({int(value) for value in raw})
        if not self.case_ids:
            raise forms.ValidationError(gettext("Tick at least one case first."))
        if len(self.case_ids) > MAX_BULK:
            raise forms.ValidationError(ngettext(
                "%(count)s case is ticked; act on at most %(max)s at once.",
                "%(count)s cases are ticked; act on at most %(max)s at once.",
                len(self.case_ids),
            ) % {"count": len(self.case_ids), "max": MAX_BULK})
        action = data.get("action")
        needed = {"assign": "assignee", "status": "status", "priority": "priority",
                  "escalate": "reason", "merge": "merge_into"}.get(str(action))
        if needed and data.get(needed) in (None, ""):
            what = {"assignee": gettext("Choose who gets the cases."),
                    "status": gettext("Choose a status."),
                    "priority": gettext("Choose a priority."),
                    "reason": gettext("Say why the cases need escalating."),
                    "merge_into": gettext("Give the Case ID to merge the cases into.")}[needed]
            self.add_error(needed, what)
        if action == "merge" and data.get("merge_into"):
            target = str(data["merge_into"]).strip().lstrip("#")
            if not target.isdigit() or len(target) > 18:
                self.add_error("merge_into", gettext("A Case ID is a number."))
            else:
                data["merge_into"] = int(target)
        return data


class ReplyForm(forms.Form):
    KIND_CHOICES = [
        ("public", _("Public reply (emailed to the requester)")),
        ("internal", _("Internal note (agents only)")),
    ]

    kind = forms.ChoiceField(
        label=_("Send as"), choices=KIND_CHOICES, initial="public", widget=forms.RadioSelect
    )
    body = forms.CharField(
        label=_("Message"), max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6, "dir": "auto"}),
        error_messages={"required": _("Write a message before sending.")},
    )
    attachments = MultipleFileField(
        required=False, label=_("Attachments"),
        help_text=_("Screenshots, logs or documents; several files at once."),
    )
    new_status = forms.ChoiceField(
        required=False, label=_("Then set status to"),
        choices=[("", _("Leave as it is")), *Ticket.Status.choices],
        help_text=_("A public reply to a new case opens it."),
    )
    new_priority = forms.TypedChoiceField(
        required=False, label=_("Then set priority to"), coerce=int, empty_value=None,
        choices=[("", _("Leave as it is")), *Priority.choices],
    )
    # The latest message on the page when the agent began: a newer public message makes
    # the reply stale (casedesk.desk.case_views.reply).
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean_attachments(self) -> list[CheckedFile]:
        return check_uploads(self.cleaned_data.get("attachments") or [])

    @property
    def internal(self) -> bool:
        return self.cleaned_data["kind"] == "internal"


def agent_label(full_name: str, email: str, is_agent: bool) -> str:
    name = full_name or email  # User.get_full_name
    return name if is_agent else gettext("%(name)s (no longer an agent)") % {"name": name}


class AgentChoiceIterator(forms.models.ModelChoiceIterator):
    """The agents as (id, label) read as values. Django's iterator builds a whole User per
    option (200 agents: a third of the case page's queries' time) and, on PostgreSQL, reads
    them through a server-side cursor (three more round trips). The select only needs the
    value and label; a posted value is still checked against the queryset."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for pk, full_name, email, role, is_active in self.queryset.values_list(
            "pk", "full_name", "email", "role", "is_active"
        ):
            yield (pk, agent_label(full_name, email, role == User.Role.AGENT and is_active))


class AgentChoiceField(forms.ModelChoiceField):
    iterator = AgentChoiceIterator

    def label_from_instance(self, obj: Any) -> str:
        return agent_label(obj.full_name, obj.email, obj.is_agent)


class UpdateForm(forms.Form):
    """Status, priority and assignee of a case.

    Each field carries the value the agent saw in a hidden input (show_hidden_initial), so
    only what this agent changed is applied: a change another agent made in the meantime
    to a field this agent left alone is kept, not overwritten.
    """

    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices)
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int, choices=Priority.choices)
    assignee = AgentChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False,
        empty_label=_("Unassigned"), widget=OptionsSelect,
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
        assignee = cast(AgentChoiceField, self.fields["assignee"])
        assignee.queryset = User.objects.filter(
            Q(role=User.Role.AGENT, is_active=True) | Q(pk=ticket.assignee_id)
        ).order_by("full_name", "email")
        # The options from the agents each process keeps (casedesk.desk.choices) when they
        # are all there is: the queryset's read was the page's slowest query. An assignee
        # no longer among them is listed by the queryset; a posted value is checked
        # against it either way.
        kept = desk_choices.agent_options()
        if ticket.assignee_id is None or any(pk == ticket.assignee_id for pk, _ in kept):
            assignee.widget.choices = [("", assignee.empty_label), *kept]
        for field in self.fields.values():
            field.show_hidden_initial = True
