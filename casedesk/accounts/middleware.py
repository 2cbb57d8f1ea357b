"""The admins' "require two-factor sign-in" switch, enforced on every page.

An agent or admin signed in without two-factor sign-in while the switch is on is sent to
set it up, and reaches nothing else (the desk, the portal, the admin site) until they
have: only the set-up pages, signing out and the language menu stay open. The REST API
authenticates by token, not by this session, and is not affected (a token is made by a
signed-in person).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from casedesk.accounts import twofactor
from casedesk.accounts.models import SecurityPolicy, User

OPEN_ROUTES = {
    "accounts:two_factor", "accounts:recovery_codes", "accounts:signout", "set_language",
}
# Set in a session signed in with a code (or that set up two-factor sign-in): the check
# then needs no query on every page.
VERIFIED = "casedesk_two_factor"


class TwoFactorPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User) and twofactor.may_use_two_factor(user)
            and not request.session.get(VERIFIED)
            and SecurityPolicy.current().require_two_factor
        ):
            if twofactor.has_two_factor(user):
                # Set up in another session: no need to ask the database again.
                request.session[VERIFIED] = True
            elif not self.is_open(request):
                target = reverse("accounts:two_factor")
                if request.method == "GET":
                    target += "?" + urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(target, status=303)
        return self.get_response(request)

    @staticmethod
    def is_open(request: HttpRequest) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in OPEN_ROUTES
