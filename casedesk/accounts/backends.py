from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from casedesk.accounts.models import User, normalize_email


class EmailBackend(ModelBackend):
    """Signs in by email address, whatever its case."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None,
        password: str | None = None, **kwargs: Any,
    ) -> User | None:
        email = kwargs.get("email", username)
        if not email or not password:
            return None
        return super().authenticate(request, username=normalize_email(email), password=password)
