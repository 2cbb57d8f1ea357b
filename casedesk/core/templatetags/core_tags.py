"""Template tags shared by every app's pages."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from casedesk.core.renderers import shown

register = template.Library()


@register.simple_tag
def form_field(field: BoundField) -> SafeString:
    """core/field.html written out: label (an orange * when required), help, widget,
    errors. The case page has fourteen fields, and including the template for each cost
    more than rendering their widgets (casedesk/core/tests/test_form_field.py keeps the
    two equal)."""
    required = field.field.required
    label = shown(field.label)
    if required:
        label = (f'<span class="req" aria-hidden="true">*</span>{label}'
                 f'<span class="visually-hidden"> {conditional_escape(gettext("(required)"))}'
                 "</span>")
    help_text = (f'<p class="help" id="{shown(field.auto_id)}_helptext">'
                 f"{shown(field.help_text)}</p>" if field.help_text else "")
    errors = "".join(f'<p class="error" role="alert">{shown(error)}</p>'
                     for error in field.errors)
    # Safe: every value is escaped above; the widget's HTML is the form renderer's own.
    return mark_safe(  # noqa: S308
        f'\n<div class="field{" has-error" if field.errors else ""}" '
        f'id="field-{shown(field.name)}">\n'
        f'  <label for="{shown(field.id_for_label)}">{label}</label>\n'
        f"  {help_text}\n"
        f"  {field}\n"
        f"  {errors}\n"
        "</div>\n"
    )
