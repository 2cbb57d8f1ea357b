import secrets

from django import template

register = template.Library()


@register.simple_tag
def kb_form_token() -> str:
    """A new token for this load of the submit form (casedesk.kb.deflection)."""
    return secrets.token_urlsafe(16)


@register.filter
def kb_title(item: object, language: str) -> str:
    """A category's or section's title in `language` (English when it has none)."""
    title_in = getattr(item, "title_in", None)
    return str(title_in(language)) if title_in else str(item)
