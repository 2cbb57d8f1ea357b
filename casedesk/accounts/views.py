"""Signing in and out, accepting an invitation, and resetting a password."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
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

from casedesk.accounts import twofactor
from casedesk.accounts.actions import (
    InvitationError,
    accept_invitation,
    find_invitation,
    save_reading_preferences,
)
from casedesk.accounts.forms import (
    DisableTwoFactorForm,
    EnableTwoFactorForm,
    NewPasswordForm,
    PasswordResetForm,
    ProfileForm,
    SignInForm,
    TwoFactorCodeForm,
    locked_message,
)
from casedesk.accounts.middleware import VERIFIED
from casedesk.accounts.models import SecurityPolicy, User, known_languages, saved_language
from casedesk.accounts.throttle import signin_throttle
from casedesk.core.net import client_address

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
            user = form.user
            if twofactor.has_two_factor(user):
                # The password is right; the session only remembers that, for a few
                # minutes, until the code is typed. Nobody is signed in yet.
                request.session.cycle_key()
                request.session[PENDING_SIGNIN] = {
                    "user": user.pk, "backend": getattr(user, "backend", EMAIL_BACKEND),
                    "next": next_url, "at": time.time(),
                }
                return redirect("accounts:signin_code")
            return complete_signin(request, user, next_url, second_factor=False)
    else:
        form = SignInForm(request)
    return render(request, "accounts/signin.html", {"form": form, "next": next_url})


PENDING_SIGNIN = "casedesk_pending_signin"
PENDING_SECONDS = 300


def complete_signin(
    request: HttpRequest, user: User, next_url: str, *, second_factor: bool,
    backend: str | None = None,
) -> HttpResponse:
    # login() gives the visitor a new session key, so a key planted before the sign-in is
    # worthless afterwards.
    login(request, user, backend=backend)
    signin_throttle().forgive_account(user.email)
    if second_factor:
        request.session[VERIFIED] = True
    if twofactor.must_enrol(user):
        messages.info(request, _("Your administrators require two-factor sign-in. Set it "
                                 "up now to continue."))
        return redirect("accounts:two_factor")
    return HttpResponseRedirect(next_url or home_for(user))


def pending_signin(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_SIGNIN)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(pending.get("user") or 0), is_active=True).first()
    return (user, pending) if user is not None else None


@sensitive_post_parameters("code")
@never_cache
def signin_code(request: HttpRequest) -> HttpResponse:
    """The second step of signing in, for a person with two-factor sign-in."""
    found = pending_signin(request)
    if found is None:
        request.session.pop(PENDING_SIGNIN, None)
        messages.error(request, _("Sign in with your email address and password first; "
                                  "a code is asked for after them, within 5 minutes."))
        return redirect("accounts:signin")
    user, pending = found
    if request.method == "POST":
        form = TwoFactorCodeForm(request, user, data=request.POST)
        if form.is_valid():
            del request.session[PENDING_SIGNIN]
            return complete_signin(request, user, pending.get("next") or "",
                                   second_factor=True, backend=pending.get("backend"))
    else:
        form = TwoFactorCodeForm(request, user)
    return render(request, "accounts/signin_code.html", {"form": form})


def two_factor_person(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not twofactor.may_use_two_factor(user):
        raise Http404
    return user


ENROLMENT_SECRET = "casedesk_two_factor_secret"  # noqa: S105 - a session key's name
NEW_RECOVERY_CODES = "casedesk_recovery_codes"


@login_required
@never_cache
def two_factor(request: HttpRequest) -> HttpResponse:
    """Two-factor sign-in: set it up (scan, confirm with a code), or see that it is on."""
    user = two_factor_person(request)
    if twofactor.has_two_factor(user):
        return _two_factor_on(request, user)
    # The secret stays in the session until a code proves the app has it: nothing is
    # stored for a set-up begun and left.
    secret = request.session.get(ENROLMENT_SECRET) or twofactor.new_secret()
    request.session[ENROLMENT_SECRET] = secret
    if request.method == "POST":
        form = EnableTwoFactorForm(request.POST)
        if form.is_valid():
            try:
                codes = twofactor.enable(user, secret, form.cleaned_data["code"])
            except twofactor.TwoFactorError as error:
                form.add_error("code", str(error))
            else:
                del request.session[ENROLMENT_SECRET]
                update_session_auth_hash(request, user)  # this session stays; others end
                request.session[VERIFIED] = True
                request.session[NEW_RECOVERY_CODES] = codes
                messages.success(request, _("Two-factor sign-in is on. From now on you "
                                            "sign in with your password and a code."))
                return redirect("accounts:recovery_codes")
    else:
        form = EnableTwoFactorForm()
    return render(request, "accounts/two_factor_setup.html", {
        "form": form, "enrolment": twofactor.enrolment(user, secret),
        "required": twofactor.must_enrol(user),
    })


@login_required
@never_cache
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """The new recovery codes, shown once: only their hashes are kept."""
    two_factor_person(request)
    codes = request.session.pop(NEW_RECOVERY_CODES, None)
    if not codes:
        messages.info(request, _("Recovery codes are shown only once, when they are made."))
        return redirect("accounts:two_factor")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@require_POST
@login_required
@sensitive_post_parameters("password", "code")
@never_cache
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    user = two_factor_person(request)
    if not twofactor.has_two_factor(user):
        return redirect("accounts:two_factor")
    form = DisableTwoFactorForm(request.POST)
    if _second_factor_changed(request, user, form, twofactor.disable):
        request.session.pop(VERIFIED, None)
        messages.success(request, _("Two-factor sign-in is off. You sign in with "
                                    "your password only."))
        return redirect("accounts:two_factor")
    return _two_factor_on(request, user, disable_form=form)


def _second_factor_changed(
    request: HttpRequest, user: User, form: DisableTwoFactorForm,
    change: Callable[[User, str, str], Any],
) -> tuple[Any] | None:
    """`change(user, password, code)` once the form is valid and the sign-in throttle lets
    this account and address try; a refusal counts against both and lands on the form.
    On success this session is kept (the change ended the others) and `(result,)` is
    returned; None when nothing changed."""
    if not form.is_valid():
        return None
    throttle, address = signin_throttle(), client_address(request)
    wait = throttle.locked_for(user.email, address)
    if wait:
        form.add_error(None, locked_message(wait))
        return None
    try:
        result = change(user, form.cleaned_data["password"], form.cleaned_data["code"])
    except twofactor.TwoFactorError as error:
        throttle.record(user.email, address)
        form.add_error(None, str(error))
        return None
    update_session_auth_hash(request, user)
    return (result,)


def _two_factor_on(request: HttpRequest, user: User, *,
                   disable_form: DisableTwoFactorForm | None = None,
                   renew_form: DisableTwoFactorForm | None = None) -> HttpResponse:
    """The page of someone with two-factor sign-in on: new recovery codes, or turn it off.
    A refused form comes back with its errors (400)."""
    return render(request, "accounts/two_factor_on.html", {
        "form": disable_form or DisableTwoFactorForm(),
        "renew_form": renew_form or DisableTwoFactorForm(prefix="renew"),
        "unused": twofactor.unused_recovery_codes(user),
        "required": SecurityPolicy.current().require_two_factor,
    }, status=400 if disable_form or renew_form else 200)


@require_POST
@login_required
@sensitive_post_parameters("renew-password", "renew-code")
@never_cache
def renew_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once; other sessions end."""
    user = two_factor_person(request)
    if not twofactor.has_two_factor(user):
        return redirect("accounts:two_factor")
    form = DisableTwoFactorForm(request.POST, prefix="renew")
    renewed = _second_factor_changed(request, user, form, twofactor.renew_recovery_codes)
    if renewed is not None:
        request.session[NEW_RECOVERY_CODES] = renewed[0]
        messages.success(request, _("New recovery codes are made: the old ones no "
                                    "longer work, and you are signed out everywhere "
                                    "else."))
        return redirect("accounts:recovery_codes")
    return _two_factor_on(request, user, renew_form=form)


def admin_signin(request: HttpRequest) -> HttpResponse:
    """The admin site's sign-in page sends people to ours, so that the admin is signed in to
    with the same throttling and the same second step."""
    target = reverse("accounts:signin")
    next_url = safe_next(request) or reverse("admin:index")
    return redirect(f"{target}?{urlencode({'next': next_url})}")


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


class PasswordResetView(auth_views.PasswordResetView):
    def get_form_kwargs(self) -> dict[str, Any]:
        # The form limits requests per client address.
        return {**super().get_form_kwargs(), "request": self.request}


password_reset = PasswordResetView.as_view(
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
    second form, and the link proved they read the account's mail. Not for a person with
    two-factor sign-in (form_valid).
    """

    form_class = NewPasswordForm  # type: ignore[assignment]
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = True
    post_reset_login_backend = EMAIL_BACKEND
    title = gettext_lazy("Choose a new password")

    def form_valid(self, form: Any) -> HttpResponse:
        # The link proves only the mailbox: someone with two-factor sign-in signs in with
        # the new password and a code, so a stolen mailbox is not a way round the code.
        self.post_reset_login = not twofactor.has_two_factor(form.user)
        return super().form_valid(form)

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
    return render(request, "accounts/profile.html", {
        "form": form, "two_factor_allowed": twofactor.may_use_two_factor(user),
        "two_factor_on": twofactor.has_two_factor(user),
    })
