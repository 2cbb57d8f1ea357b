"""{% form_field %} writes what core/field.html wrote, for every kind of field the pages
use, bound or not, with errors, in English and Arabic, every value escaped."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from casedesk.core.forms import MultipleFileField


class Fields(forms.Form):
    name = forms.CharField(max_length=50, label=_("Name"), help_text='<b>"help"</b> & more')
    body = forms.CharField(label='Body <i>&</i> "text"', widget=forms.Textarea(attrs={"rows": 3}))
    safe_help = forms.CharField(required=False, help_text=mark_safe("<em>kept</em>"))
    status = forms.ChoiceField(label=_("Status"), choices=[("open", _("Open")), ("<", "A & B")])
    priority = forms.TypedChoiceField(coerce=int, required=False, choices=[(1, "x"), (2, "y")])
    uploads = MultipleFileField(required=False, label=_("Attachments"))
    hidden = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_name(self) -> Any:
        raise forms.ValidationError('Not "<this>" & not that')


DATA: list[dict[str, Any] | None] = [
    None,
    {"name": "<script>x</script>", "body": "", "status": "<", "priority": "9"},
    {"name": "too long for the field: over fifty characters, which it refuses",
     "body": "a & b", "status": "open", "priority": "1", "hidden": "3"},
]
TAG = Template("{% load core_tags %}{% form_field field %}")


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("hidden_initial", [False, True])
def test_the_tag_writes_what_the_template_wrote(language: str, data: dict[str, Any] | None,
                                                hidden_initial: bool) -> None:
    with override(language):
        form = Fields(data, initial={"status": "<", "name": "Ann & co"})
        for field in form.fields.values():
            field.show_hidden_initial = hidden_initial
        for bound in form:
            expected = render_to_string("core/field.html", {"field": bound})
            assert TAG.render(Context({"field": bound})) == expected, bound.name


def test_a_value_is_escaped() -> None:
    form = Fields({"name": "<script>x</script>"})
    html = TAG.render(Context({"field": form["name"]}))
    assert "<script>" not in html
    assert "&quot;&lt;this&gt;&quot; &amp; not that" in html
    assert "&lt;b&gt;&quot;help&quot;&lt;/b&gt; &amp; more" in html
