"""The token pages: agents make and revoke their API tokens on the desk (admins: anyone's),
contacts theirs in the portal. A new token is shown once, on the page that made it."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from casedesk.accounts.models import User, normalize_email
from casedesk.accounts.tokens import (
    MAX_EXPIRY_DAYS,
    NAME_MAX,
    TokenError,
    create_token,
    revoke_token,
    tokens_managed_by,
)
from casedesk.desk.access import agent_required


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What it is for"), max_length=NAME_MAX, required=False)
    expires_days = forms.IntegerField(
        label=_("Expires after (days)"), required=False, min_value=1, max_value=MAX_EXPIRY_DAYS,
        help_text=_("Empty: it works until revoked."),
    )
    email = forms.EmailField(label=_("For (email)"), required=False,
                             help_text=_("Empty: for you."))

    def __init__(self, *args: object, admin: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not admin:
            del self.fields["email"]

    def clean_email(self) -> User | None:
        email = normalize_email(self.cleaned_data.get("email") or "")
        if not email:
            return None
        user = User.objects.filter(email=email, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("Nobody active has this address."))
        return user


def _tokens_page(request: HttpRequest, template: str, url_name: str) -> HttpResponse:
    person = cast(User, request.user)
    admin = person.is_agent and person.is_staff
    secret = ""
    form = TokenForm(admin=admin)
    if request.method == "POST":
        form = TokenForm(request.POST, admin=admin)
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = create_token(data.get("email") or person, name=data["name"],
                                   expires_days=data["expires_days"], created_by=person)
            except TokenError as exc:
                form.add_error(None, str(exc))
            else:
                secret = new.secret
                form = TokenForm(admin=admin)
    response = render(request, template, {
        "form": form, "secret": secret, "admin": admin, "revoke_url": url_name,
        "tokens": tokens_managed_by(person).order_by("-created_at", "-pk")[:200],
    })
    # The page with a new token on it is never kept by a browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


def _revoke(request: HttpRequest, token_id: int, back: str) -> HttpResponseRedirect:
    try:
        token = revoke_token(token_id, by=cast(User, request.user))
    except TokenError:
        raise Http404("No such token.") from None
    messages.success(request, _("Token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return HttpResponseRedirect(reverse(back), status=303)


@agent_required
def desk_tokens(request: HttpRequest) -> HttpResponse:
    return _tokens_page(request, "api/desk_tokens.html", "api_pages:desk_revoke")


@agent_required
@require_POST
def desk_revoke(request: HttpRequest, token_id: int) -> HttpResponseRedirect:
    return _revoke(request, token_id, "api_pages:desk_tokens")


@login_required
def portal_tokens(request: HttpRequest) -> HttpResponse:
    return _tokens_page(request, "api/portal_tokens.html", "api_pages:portal_revoke")


@login_required
@require_POST
def portal_revoke(request: HttpRequest, token_id: int) -> HttpResponseRedirect:
    return _revoke(request, token_id, "api_pages:portal_tokens")
