"""The knowledge base: categories hold sections, sections hold articles, and an article
has one translation per language (English always, as the fallback; Arabic when written).

Counters live in their own tables: a helpful vote per article and visitor session, and
the suggestions opened from the submit form, grouped by the form's page load (a
FormSession), from which casedesk.kb.deflection computes what was deflected.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import language_choices

SOURCE_LANGUAGE = "en"


def validate_language_titles(value: object) -> None:
    """A category's or section's titles in other languages: {"ar": "..."}."""
    known = {code for code, _name in settings.LANGUAGES}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError(_('Write the titles as {"ar": "…"}: a language code and a title.'))
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValidationError(
            _("Unknown language code: %(codes)s. Use one of: %(known)s."),
            params={"codes": ", ".join(unknown), "known": ", ".join(sorted(known))},
        )


class Titled(models.Model):
    title = models.CharField(_("title (English)"), max_length=120)
    titles = models.JSONField(
        _("titles in other languages"), default=dict, blank=True,
        validators=[validate_language_titles],
        help_text=_('For example {"ar": "…"}. A language left out shows the English title.'),
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title

    def title_in(self, language: str) -> str:
        titles = self.titles if isinstance(self.titles, dict) else {}
        return str(titles.get(language) or self.title)


class Category(Titled):
    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")


class Section(Titled):
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="sections", verbose_name=_("category")
    )

    class Meta:
        ordering = ["category__position", "position", "title"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return f"{self.category.title} › {self.title}"


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, related_name="articles", verbose_name=_("section")
    )
    slug = models.SlugField(_("address"), max_length=120, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    internal = models.BooleanField(
        _("internal"), default=False, help_text=_("Only agents can read an internal article.")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("author"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["section__category__position", "section__position", "position", "slug"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("kb:article", args=[self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Translation(models.Model):
    """An article in one language. The body is Markdown as written; `html` is its
    sanitized rendering (casedesk.kb.markdown), made when it is saved."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=10, choices=language_choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"))
    html = models.TextField(editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "language"], name="kb_one_per_language")
        ]
        ordering = ["article", "language"]
        verbose_name = _("translation")
        verbose_name_plural = _("translations")

    def __str__(self) -> str:
        return f"{self.article.slug} [{self.language}]"


class HelpfulVote(models.Model):
    """"Was this helpful?": one answer per article and visitor session (a second answer
    replaces the first)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    session_key = models.CharField(max_length=40)
    helpful = models.BooleanField()
    language = models.CharField(max_length=10)
    voted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "session_key"], name="kb_one_vote")
        ]

    def __str__(self) -> str:
        return f"{self.article_id}: {'yes' if self.helpful else 'no'}"


class FormSession(models.Model):
    """One load of the portal's submit form that opened at least one suggestion (rows are
    made on the first opening, never for a page view). The submit form's script reports
    when the form is submitted and when the page is left (casedesk.kb.deflection)."""

    token = models.CharField(max_length=32, unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    last_open_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.token


class SuggestionOpen(models.Model):
    session = models.ForeignKey(FormSession, on_delete=models.CASCADE, related_name="opens")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="opens")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "article"], name="kb_one_open")
        ]

    def __str__(self) -> str:
        return f"{self.session_id} opened {self.article_id}"
