"""Who may use the agent desk: active agents only.

A visitor who is not signed in is sent to sign in and brought back. A signed-in customer
never learns that a desk URL exists: case pages answer 404, exactly like a missing case,
and the queue sends them to the portal they came from.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

View = Callable[..., HttpResponseBase]


def agent_required(
    view: View | None = None, *, others_to: str | None = None
) -> Any:
    """Let active agents through; `others_to` (a URL name) redirects non-agents instead of
    answering 404. Use bare (`@agent_required`) or with arguments."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(
                    request.get_full_path(), login_url=reverse("accounts:signin")
                )
            if not getattr(user, "is_agent", False):
                if others_to is not None:
                    return redirect(others_to)
                raise Http404("No such page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
