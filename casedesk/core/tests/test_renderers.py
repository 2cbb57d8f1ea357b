"""The form renderer writes the common widgets itself: the HTML must be exactly what
Django's own templates write, for every widget it handles, in both languages."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from casedesk.core.forms import MultipleFileField
from casedesk.core.renderers import FastWidgetRenderer

TEMPLATES = DjangoTemplates()
FAST = FastWidgetRenderer()


class Everything(forms.Form):
    text = forms.CharField(max_length=20, label=_("Name"), help_text="<b>help</b>",
                           widget=forms.TextInput(attrs={"placeholder": _("Case ID or subject"),
                                                         "dir": "auto", "autofocus": True,
                                                         "spellcheck": False}))
    hidden = forms.IntegerField(required=False, widget=forms.HiddenInput)
    email = forms.EmailField(required=False)
    number = forms.DecimalField(required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    uploads = MultipleFileField(required=False)
    choice = forms.ChoiceField(choices=[("", "---"), ("a", "A & B"), ("<", mark_safe("<i>x</i>")),
                                        ("Group", [("g1", "One"), ("g2", _("Status"))])])
    many = forms.MultipleChoiceField(required=False, choices=[(1, "one"), (2, "two"), (3, 3)])
    typed = forms.TypedChoiceField(coerce=int, choices=[(1, "x"), (2, "y")], required=False)
    flag = forms.BooleanField(required=False)
    radio = forms.ChoiceField(choices=[("p", "Public"), ("i", "Internal")],
                              widget=forms.RadioSelect, required=False)
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))


BOUND: list[dict[str, Any]] = [
    {},
    {"text": 'Ann "O\'Neil" <x>', "hidden": "7", "email": "a&b@example.com", "number": "1.5",
     "day": "2026-11-27", "body": "line <1>\n&line 2", "choice": "<", "many": ["1", "3"],
     "typed": "2", "flag": "on", "radio": "i", "secret": "s<>"},
    {"text": mark_safe("<b>safe</b>"), "choice": "g2", "body": ""},
]


def rendered(form: forms.Form) -> list[str]:
    return [str(field) + str(field.as_hidden()) if not isinstance(
        field.field.widget, forms.FileInput | forms.RadioSelect) else str(field)
        for field in form]


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("data", BOUND)
def test_fast_widgets_write_what_djangos_templates_write(language: str,
                                                         data: dict[str, Any]) -> None:
    with override(language):
        ours = rendered(Everything(data or None, renderer=FAST,
                                   initial={"hidden": 3, "many": [2], "typed": 1}))
        theirs = rendered(Everything(data or None, renderer=TEMPLATES,
                                     initial={"hidden": 3, "many": [2], "typed": 1}))
    assert ours == theirs


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("data", BOUND)
@pytest.mark.parametrize("wrap_label", [False, True])
def test_each_radio_button_and_checkbox_is_written_as_djangos_templates_write(
    language: str, data: dict[str, Any], wrap_label: bool
) -> None:
    choices = [("p", "Public <b>"), ("i", _("Status")), ("&", mark_safe("<i>x</i>"))]

    class Options(forms.Form):
        radio = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, required=False)
        boxes = forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple,
                                          required=False)
        plain = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, required=False)

    def tags(renderer: Any) -> list[str]:
        form = Options({"radio": "i", "boxes": ["p", "&"]} if data else None,
                       renderer=renderer, auto_id="id_%s" if data else False)
        return [str(option.tag(wrap_label=wrap_label)) for field in form for option in field]

    with override(language):
        assert tags(FAST) == tags(TEMPLATES)


def test_the_desks_forms_render_the_same(agent: Any) -> None:
    from casedesk.conftest import make_case
    from casedesk.desk.case_forms import CaseIdForm, CcForm
    from casedesk.desk.forms import BulkActionForm, ReplyForm, UpdateForm
    from casedesk.escalation.forms import EscalateForm, PhoneEscalationForm

    ticket = make_case().ticket
    ticket.assignee = agent

    def forms_with(renderer: Any) -> list[str]:
        built = [ReplyForm(renderer=renderer), UpdateForm(ticket=ticket, renderer=renderer),
                 EscalateForm(current=1, renderer=renderer),
                 PhoneEscalationForm(current=1, renderer=renderer),
                 CcForm(renderer=renderer), CaseIdForm(auto_id="link_%s", renderer=renderer),
                 BulkActionForm(agents=[(1, "Ann")], levels=[(2, "Two")], renderer=renderer)]
        return [html for form in built for html in rendered(form)]

    assert forms_with(FAST) == forms_with(TEMPLATES)


def test_other_templates_still_come_from_templates() -> None:
    form = Everything(renderer=FAST)
    # RadioSelect has its own templates: they still render, through Django's.
    assert 'type="radio"' in str(form["radio"])
    assert FAST.render("django/forms/div.html", {"form": form}) == TEMPLATES.render(
        "django/forms/div.html", {"form": form})
