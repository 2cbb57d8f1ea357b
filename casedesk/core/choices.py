"""Choices shared by several apps."""

from functools import lru_cache
from typing import Any

from django.db import models
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

StrOrPromise = str | Promise


class Priority(models.IntegerChoices):
    """The four levels of the support process. A lower number is more urgent, so ordering
    by priority puts High first and an index on it serves the desk's priority view."""

    HIGH = 1, _("High (Critical)")
    MEDIUM = 2, _("Medium (Major)")
    LOW = 3, _("Low (Minor)")
    QUESTION = 4, _("Question (Request)")


PRIORITY_DESCRIPTIONS: dict[int, StrOrPromise] = {
    Priority.HIGH: _("An issue that prevents operation of critical functions with high "
    "frequency or duration."),
    Priority.MEDIUM: _("An issue that consistently prevents operation of non-critical functions "
    "or occasionally impacts critical functions, or a critical issue for which a temporary "
    "workaround has been provided."),
    Priority.LOW: _("An issue that has some impact on administration, non-critical operation or "
    "other secondary functions, or a major issue for which a temporary workaround has been "
    "provided."),
    Priority.QUESTION: _("The service is unaffected: a request for product-related technical "
    "advice, general information or feature questions."),
}


# Short names, for URLs, filters and the API.
PRIORITY_SLUGS: dict[int, str] = {
    Priority.HIGH: "high", Priority.MEDIUM: "medium", Priority.LOW: "low",
    Priority.QUESTION: "question",
}


@lru_cache(maxsize=256)
def _labels(field: Any, language: str | None) -> dict[Any, str]:
    """A field's choices as {value: label in `language`} (the active language)."""
    return {value: str(label) for value, label in field.flatchoices}


class ChoiceLabels:
    """get_FOO_display() from a dict per field and language, kept.

    Django's builds a dict of the field's choices on every call, hashing each lazy label,
    which translates it: the desk's queue asked for 50 labels a page, 15% of the page's
    time. Same result: the label in the active language, or the value itself when it is
    not one of the choices."""

    def _get_FIELD_display(self, field: Any) -> Any:  # noqa: N802 - Django's name
        value = getattr(self, field.attname)
        try:
            label = _labels(field, get_language()).get(value)
        except TypeError:  # an unhashable value (a list, a dict): Django's way
            return super()._get_FIELD_display(field)  # type: ignore[misc]
        return label if label is not None else force_str(value, strings_only=True)
