from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from casedesk.accounts.models import User, normalize_email
from casedesk.core import rows


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

    def get_user(self, user_id: Any) -> User | None:
        """The signed-in person of every request, read by a fixed statement
        (casedesk.core.rows): compiling the ORM's query cost more than running it. As
        ModelBackend.get_user: None for an unknown or deactivated account."""
        found = rows.select(User, "id = %s", [user_id])
        if not found or not self.user_can_authenticate(found[0]):
            return None
        return found[0]
