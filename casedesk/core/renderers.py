"""The form renderer (settings.FORM_RENDERER): Django's, with its most used widget templates
written out in Python.

Django renders every widget through a template, and every attribute and every <option>
through an included one: the desk's case page has about twenty widgets and sixty options,
and rendering them cost a fifth of the page's time. The widgets below produce exactly what
Django's templates do (casedesk/core/tests/test_renderers.py compares them); any other
template, or a widget these do not know how to write, goes to the templates as before.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

WIDGETS = "django/forms/widgets/"
# Each of these templates is an include of input.html, nothing else.
INPUTS = frozenset(
    f"{WIDGETS}{name}.html"
    for name in ("input", "text", "hidden", "email", "number", "url", "password", "search",
                 "tel", "date", "datetime", "time", "file")
)
OPTION = f"{WIDGETS}select_option.html"
# One radio button or checkbox of a set (BoundWidget.tag: the case page's "Send as").
INPUT_OPTIONS = frozenset(f"{WIDGETS}{name}_option.html" for name in ("radio", "checkbox"))


def _shown(value: Any) -> str:
    """{{ value }} (django.template.base.render_value_in_context, autoescaping)."""
    value = localize(template_localtime(value))
    return str(conditional_escape(value if isinstance(value, str) else str(value)))


# What the pages' own tags write values with (casedesk.core.templatetags.core_tags).
shown = _shown


def _formatted(value: Any) -> str:
    """{{ value|stringformat:'s' }}: safe text stays as it is, the rest is escaped."""
    text = str(value) if isinstance(value, tuple) else "%s" % value  # noqa: UP031 - the filter
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_shown(name)}")
        else:
            parts.append(f' {_shown(name)}="{_formatted(value)}"')
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    value = widget["value"]
    shown = f' value="{_formatted(value)}"' if value is not None else ""
    return (f'<input type="{_shown(widget["type"])}" '
            f'name="{_shown(widget["name"])}"{shown}{_attrs(widget["attrs"])}>')


def _input_option(widget: dict[str, Any]) -> str:
    """input_option.html: the input, or inside its label when `wrap_label`."""
    if not widget.get("wrap_label"):
        return _input(widget)
    target = widget["attrs"].get("id")
    label_for = f' for="{shown(target)}"' if target else ""
    return f"<label{label_for}>{_input(widget)}\n {shown(widget['label'])}</label>"


def _textarea(widget: dict[str, Any]) -> str:
    value = widget["value"]
    text = _shown(value) if value else ""
    return (f'<textarea name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>'
            f"\n{text}</textarea>")


def _select(widget: dict[str, Any]) -> str | None:
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION:
                return None
            parts.append(f'\n  <option value="{_formatted(option["value"])}"'
                         f'{_attrs(option["attrs"])}>{_shown(option["label"])}'
                         "</option>\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FastWidgetRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget") if len(context) == 1 else None
        html: str | None = None
        if isinstance(widget, dict):
            if template_name in INPUTS:
                html = _input(widget)
            elif template_name in INPUT_OPTIONS:
                html = _input_option(widget)
            elif template_name == f"{WIDGETS}textarea.html":
                html = _textarea(widget)
            elif template_name == f"{WIDGETS}select.html":
                html = _select(widget)
        if html is None:
            return str(super().render(template_name, context, request))
        # Safe: every value and attribute is escaped above, as the templates escape them.
        return mark_safe(html.strip())  # noqa: S308
