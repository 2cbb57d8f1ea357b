"""Signing in and out, accepting an invitation, and resetting a password."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from casedesk.accounts.actions import (
    InvitationError,
    accept_invitation,
    find_invitation,
    save_reading_preferences,
)
from casedesk.accounts.forms import NewPasswordForm, PasswordResetForm, ProfileForm, SignInForm
from casedesk.accounts.models import User, known_languages
from casedesk.core.middleware import saved_language

EMAIL_BACKEND = "casedesk.accounts.backends.EmailBackend"


def home_for(user: User) -> str:
    """Where a user lands after signing in when no page asked for them."""
    return reverse("desk:queue") if user.is_agent else reverse("portal:cases")


def safe_next(request: HttpRequest) -> str:
    """The `next` page, if it is on this site; an empty string otherwise.

    A link to another site (or a scheme like javascript:) is dropped, so a crafted sign-in
    link cannot send someone elsewhere after they type their password.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def safe_back(request: HttpRequest) -> str:
    """The page a form was posted from (`next`, else the Referer), if it is on this site;
    else the portal's home page."""
    target = safe_next(request)
    referer = request.META.get("HTTP_REFERER", "")
    if not target and referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = referer
    return target or reverse("portal:home")


@sensitive_post_parameters("password")
@never_cache
def signin(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    if request.method == "POST":
        form = SignInForm(request, data=request.POST)
        if form.is_valid() and form.user is not None:
            # login() gives the visitor a new session key, so a key planted before the
            # sign-in is worthless afterwards.
            login(request, form.user)
            return HttpResponseRedirect(next_url or home_for(form.user))
    else:
        form = SignInForm(request)
    return render(request, "accounts/signin.html", {"form": form, "next": next_url})


@never_cache
def signout(request: HttpRequest) -> HttpResponse:
    """POST signs out. GET only asks, so a link or an image cannot sign anyone out."""
    if request.method == "POST":
        was_signed_in = request.user.is_authenticated
        logout(request)
        if was_signed_in:
            messages.success(request, _("You are signed out. Thank you for visiting."))
        return redirect("portal:home")
    if not request.user.is_authenticated:
        return redirect("portal:home")
    return render(request, "accounts/signout.html")


def invitation_refused(request: HttpRequest, error: InvitationError) -> HttpResponse:
    # Every refused link (unknown, tampered, used, expired) answers 404: the message tells
    # the visitor which case it is and what to do; the status need not.
    return render(request, "accounts/invitation_invalid.html", {"error": str(error)}, status=404)


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invited = find_invitation(token).user
    except InvitationError as error:
        return invitation_refused(request, error)
    if request.method == "POST":
        form = NewPasswordForm(invited, data=request.POST)
        if form.is_valid():
            try:
                user = accept_invitation(token, form.cleaned_data["new_password1"])
            except InvitationError as error:
                # Spent by a concurrent request between our check and the update.
                return invitation_refused(request, error)
            except ValidationError as error:
                form.add_error("new_password1", error)
            else:
                login(request, user, backend=EMAIL_BACKEND)
                messages.success(
                    request,
                    _("Welcome, %(name)s. Your password is set and you are signed in.")
                    % {"name": user.get_short_name()},
                )
                return redirect("portal:cases")
    else:
        form = NewPasswordForm(invited)
    return render(request, "accounts/invitation.html", {"form": form, "invited": invited})


password_reset = auth_views.PasswordResetView.as_view(
    form_class=PasswordResetForm,
    template_name="accounts/password_reset.html",
    success_url=reverse_lazy("accounts:password_reset_done"),
    title=gettext_lazy("Forgot your password?"),
)

password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html",
    title=gettext_lazy("Check your email"),
)


@method_decorator(sensitive_post_parameters("new_password1", "new_password2"), name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's token check, our form and pages; the user is signed in afterwards.

    Signing in right away spares a contact who only just chose their first password a
    second form, and the link proved they read the account's mail.
    """

    form_class = NewPasswordForm  # type: ignore[assignment]
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = True
    post_reset_login_backend = EMAIL_BACKEND
    title = gettext_lazy("Choose a new password")

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        # Django checks the token, not whether the account was deactivated since.
        return user if user is not None and user.is_active else None

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if not self.validlink:
            kwargs.setdefault("status", 404)
        return super().render_to_response(context, **kwargs)


password_reset_confirm = PasswordResetConfirmView.as_view()


def password_reset_complete(request: HttpRequest) -> HttpResponse:
    home = home_for(request.user) if request.user.is_authenticated else ""
    return render(request, "accounts/password_reset_complete.html", {"home": home})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language menu: Django's set_language (the cookie, then back to `next`), and for
    a signed-in person the choice saved on their account, so it follows them to any
    browser. An unknown code changes nothing and says so."""
    code = request.POST.get("language", "")
    if code not in known_languages():
        messages.error(
            request,
            _("“%(code)s” is not a language casedesk is written in. Nothing was changed.")
            % {"code": code[:20]},
        )
        return HttpResponseRedirect(safe_back(request), status=303)
    if request.user.is_authenticated:
        save_reading_preferences(request.user, language=code)  # type: ignore[arg-type]
    response = django_set_language(request)
    response.status_code = 303
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The person's reading preferences: language and time zone."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        form = ProfileForm(request.POST, user=user)
        if form.is_valid():
            save_reading_preferences(
                user, language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
            )
            response = HttpResponseRedirect(reverse("accounts:profile"), status=303)
            # The next pages are in the language just chosen, else the organization's,
            # else the browser's.
            chosen = saved_language(user)
            if chosen:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME, chosen,
                    max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax",
                )
                translation.activate(chosen)
            else:
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            messages.success(request, _("Your preferences are saved."))
            return response
    else:
        form = ProfileForm(user=user)
    return render(request, "accounts/profile.html", {"form": form})
