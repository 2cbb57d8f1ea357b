"""Form pieces shared by the portal and the desk."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from casedesk.core.files import ALLOWED

# A hint for the browser's file picker; the server checks every file's content anyway.
ACCEPT = ",".join(f".{extension}" for extension in sorted(ALLOWED))


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's "Uploading multiple files" recipe).

    Returns the raw uploads; the form checks them as a set with check_uploads, which also
    answers for empty files, so Django's own "empty file" message is switched off here.
    """

    widget = MultipleFileInput(attrs={"accept": ACCEPT})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else [data]
        uploads = [item for item in items if item]
        if not uploads and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return uploads
