from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from casedesk.kb.actions import ArticleError, Text, check_texts, delete_article, save_article
from casedesk.kb.models import Article, Category, Section, Translation


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["title", "position"]
    list_editable = ["position"]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "position"]
    list_filter = ["category"]


class TranslationFormSet(BaseInlineFormSet):
    """The translations are checked as the desk checks them, before anything is saved."""

    def texts(self) -> list[Text]:
        return [
            Text(data["language"], data["title"], data["body"])
            for data in (form.cleaned_data for form in self.forms)
            if data and not data.get("DELETE")
        ]

    def clean(self) -> None:
        super().clean()
        try:
            check_texts(self.texts())
        except ArticleError as exc:
            raise ValidationError(exc.message) from exc


class TranslationInline(admin.StackedInline):
    model = Translation
    formset = TranslationFormSet
    extra = 0
    fields = ["language", "title", "body"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Edited through casedesk.kb.actions like the desk does, so the rendering and the
    search index stay in step with what the admin saves."""

    list_display = ["slug", "section", "status", "internal", "updated_at"]
    list_filter = ["status", "internal", "section__category"]
    search_fields = ["slug", "translations__title"]
    readonly_fields = ["author", "created_at", "updated_at", "published_at"]
    inlines = [TranslationInline]
    actions = ["delete_with_index"]

    def get_actions(self, request: HttpRequest) -> dict:  # type: ignore[type-arg]
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        return found

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:  # type: ignore[no-untyped-def]
        article: Article = form.instance
        texts = [t for formset in formsets for t in formset.texts()]
        try:
            save_article(
                by=request.user, section=article.section, texts=texts,  # type: ignore[arg-type]
                status=article.status, internal=article.internal, slug=article.slug,
                article=article,
            )
        except ArticleError as exc:
            # Checked already by the formset; a slug taken meanwhile lands here. The admin's
            # transaction is rolled back with it, so nothing is half saved.
            raise ValidationError(exc.message) from exc

    def delete_model(self, request: HttpRequest, obj: Article) -> None:
        delete_article(obj)

    @admin.action(description=_("Delete the selected articles"))
    def delete_with_index(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        for article in queryset:
            delete_article(article)
