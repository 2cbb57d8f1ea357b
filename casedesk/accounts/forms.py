"""Forms for signing in, setting a password (invitation or reset) and asking for a reset."""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from casedesk.accounts import twofactor
from casedesk.accounts.actions import reset_password
from casedesk.accounts.models import User, normalize_email
from casedesk.accounts.throttle import reset_throttle, signin_throttle
from casedesk.core.format import duration_text, duration_text_lazy
from casedesk.core.net import client_address
from casedesk.mail.actions import queue_mail
from casedesk.mail.models import OutboundMail

# One message for every refusal: it must not tell a stranger whether an address has an
# account, has no password yet, or is deactivated.
SIGNIN_FAILED = _(
    "That email address and password do not match an account that can sign in. "
    "Check them and try again, or use “Forgot your password?”."
)

STRENGTH_HELP = _(
    "At least 10 characters. Not a common password, not only digits, and not close to "
    "your name or email address."
)


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password:
            throttle, address = signin_throttle(), client_address(self.request)
            # Checked before the password: a locked account refuses the right one too.
            wait = throttle.locked_for(email, address)
            if wait:
                raise ValidationError(locked_message(wait), code="locked")
            # The backend refuses inactive users and unusable (never set) passwords, so
            # all of them end here with the same message.
            user = authenticate(self.request, email=email, password=password)
            if user is None:
                throttle.record(email, address)
                raise ValidationError(SIGNIN_FAILED, code="invalid_login")
            self.user = user
        return cleaned


def locked_message(seconds: int) -> str:
    """The refusal while an account or address is locked, saying when to try again."""
    wait = duration_text(timedelta(minutes=max(1, math.ceil(seconds / 60))))
    return _(
        "Too many attempts that did not work. For your account's safety, signing in is "
        "paused: try again in %(wait)s."
    ) % {"wait": wait}


class TwoFactorCodeForm(forms.Form):
    """The second step of signing in: a code from the authenticator app, or a recovery
    code."""

    code = forms.CharField(
        label=_("Code"), max_length=40, strip=True,
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery "
                    "codes."),
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "text", "autofocus": True,
            "autocapitalize": "off", "spellcheck": "false",
        }),
    )

    def __init__(self, request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code = cleaned.get("code")
        if code:
            throttle, address = signin_throttle(), client_address(self.request)
            wait = throttle.locked_for(self.user.email, address)
            if wait:
                raise ValidationError(locked_message(wait), code="locked")
            if not twofactor.verify(self.user, code):
                throttle.record(self.user.email, address)
                raise ValidationError(CODE_REFUSED, code="invalid_code")
        return cleaned


CODE_REFUSED = _(
    "That code did not work. Type the 6 digits your app shows now (each code works once), "
    "or an unused recovery code."
)


class EnableTwoFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your app"), max_length=20, strip=True,
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
        }),
    )


class DisableTwoFactorForm(forms.Form):
    password = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Code"), max_length=40, strip=True,
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery "
                    "codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


class NewPasswordForm(forms.Form):
    """A new password, typed twice and checked against the validators for this user.

    Used by the invitation page and by the password reset confirmation (whose view calls
    `save`). Errors sit next to the field they concern.
    """

    new_password1 = forms.CharField(
        label=_("New password"), strip=False, help_text=STRENGTH_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    new_password2 = forms.CharField(
        label=_("Type it again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first:
            try:
                validate_password(first, self.user)
            except ValidationError as exc:
                self.add_error("new_password1", exc)
        if first and second and first != second:
            self.add_error(
                "new_password2", _("The two passwords are not the same. Type the same one twice.")
            )
        return cleaned

    def save(self, commit: bool = True) -> User:
        """Called by Django's PasswordResetConfirmView once the link and form are valid."""
        return reset_password(self.user, self.cleaned_data["new_password1"])


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's reset form, with the mail queued in our outbox instead of sent inline.

    Requests are limited per address typed and per client address (casedesk.accounts.
    throttle), counted whether or not an account has the address: the refusal, like the
    confirmation, says nothing about who has an account.
    """

    email = forms.EmailField(
        label=_("Email address"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email = cleaned.get("email")
        if email and self.request is not None:
            throttle, address = reset_throttle(), client_address(self.request)
            wait = throttle.locked_for(email, address)
            if wait:
                minutes = duration_text(timedelta(minutes=max(1, math.ceil(wait / 60))))
                # Next to the field: the page shows no other errors.
                self.add_error("email", ValidationError(
                    _("Too many reset requests for this address or from your network. "
                      "Check your mailbox (and its spam folder) for a link we sent, or try "
                      "again in %(wait)s.") % {"wait": minutes},
                    code="throttled",
                ))
            else:
                throttle.record(email, address)
        return cleaned

    def get_users(self, email: str) -> Iterator[User]:
        """Active users with this address, including invited contacts without a password.

        Django skips unusable passwords; we must not, because a reset link is how a
        contact whose invitation expired (or got lost) sets a first password.
        """
        yield from User.objects.filter(email=normalize_email(email), is_active=True)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The outbox row and the delivery job are written together; the job sends later.
        with transaction.atomic():
            super().save(*args, **kwargs)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user: User = context["user"]
        # The link starts with the configured base URL, never the request's Host header,
        # which a visitor controls.
        link = settings.CASEDESK_BASE_URL + reverse(
            "accounts:password_reset_confirm", args=[context["uid"], context["token"]]
        )
        queue_mail(
            kind=OutboundMail.Kind.PASSWORD_RESET,
            to=to_email,
            reader=user,
            subject=(
                _("Reset your support portal password") if user.has_usable_password()
                else _("Set your support portal password")
            ),
            template="accounts/mail/password_reset.txt",
            context={
                "user": user, "link": link, "has_password": user.has_usable_password(),
                "valid_for": duration_text_lazy(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)),
            },
            headers={"Auto-Submitted": "auto-generated"},
        )


def time_zone_names() -> list[str]:
    """The IANA zones this server knows (Python's zoneinfo), sorted."""
    return sorted(zoneinfo.available_timezones())


class ProfileForm(forms.Form):
    """The language and time zone a person reads casedesk in."""

    language = forms.ChoiceField(
        label=_("Language"), required=False,
        help_text=_("Pages and email are written in it."),
        error_messages={
            "invalid_choice": _("“%(value)s” is not a language casedesk is written in."),
        },
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"), required=False,
        help_text=_("Times on the portal and in email are shown in it."),
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not a time zone we know. Choose one from the list, "
                "like Asia/Dubai."
            ),
        },
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"language": user.language, "time_zone": user.time_zone})
        super().__init__(*args, **kwargs)
        organization = user.organization if user.organization_id is not None else None
        language = cast(forms.ChoiceField, self.fields["language"])
        zone = cast(forms.ChoiceField, self.fields["time_zone"])
        if organization is not None:
            language.choices = [("", _("As my organization says"))]
            zone.choices = [("", format_lazy(_("As my organization says ({zone})"),
                                             zone=organization.time_zone))]
        else:
            language.choices = [("", _("As my browser says"))]
            zone.choices = [("", format_lazy(_("The site's time zone ({zone})"),
                                             zone=settings.TIME_ZONE))]
        language.choices += [(code, name) for code, name in settings.LANGUAGES]
        zone.choices += [(name, name) for name in time_zone_names()]
