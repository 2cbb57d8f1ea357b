"""Choices shared by several apps."""

from django.db import models
from django.utils.functional import Promise
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
