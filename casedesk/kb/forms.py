"""The desk's article form: where it lives, its address and state, and a title and
Markdown body per language of the site."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from casedesk.kb.actions import SLUG_MAX, Text
from casedesk.kb.models import SOURCE_LANGUAGE, Article, Section

BODY_MAX = 100_000


class ArticleForm(forms.Form):
    section = forms.ModelChoiceField(
        label=_("Section"), queryset=Section.objects.select_related("category"),
        error_messages={"invalid_choice": _("Choose one of the sections.")},
    )
    slug = forms.CharField(
        label=_("Address"), max_length=SLUG_MAX, required=False,
        help_text=_("The end of the article's web address. Leave empty to make one from "
                    "the English title."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=Article.Status.choices)
    internal = forms.BooleanField(
        label=_("Internal: only agents can read it"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            required = code == SOURCE_LANGUAGE
            self.fields[f"title_{code}"] = forms.CharField(
                label=format_lazy(_("Title ({language})"), language=name), max_length=200,
                required=required,
            )
            self.fields[f"body_{code}"] = forms.CharField(
                label=format_lazy(_("Text ({language}, Markdown)"), language=name),
                max_length=BODY_MAX, required=required,
                widget=forms.Textarea(attrs={"rows": 14, "dir": "auto"}),
            )
            self.fields[f"title_{code}"].widget.attrs["dir"] = "auto"

    def language_fields(self) -> list[tuple[str, str, Any, Any]]:
        return [
            (code, str(name), self[f"title_{code}"], self[f"body_{code}"])
            for code, name in settings.LANGUAGES
        ]

    def texts(self) -> list[Text]:
        data = self.cleaned_data
        return [
            Text(code, data.get(f"title_{code}", ""), data.get(f"body_{code}", ""))
            for code, _name in settings.LANGUAGES
        ]


def initial_for(article: Article) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "section": article.section_id, "slug": article.slug, "status": article.status,
        "internal": article.internal,
    }
    for translation in article.translations.all():
        initial[f"title_{translation.language}"] = translation.title
        initial[f"body_{translation.language}"] = translation.body
    return initial
