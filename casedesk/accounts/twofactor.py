"""Two-factor sign-in: an authenticator app (TOTP) and one-time recovery codes.

pyotp computes the codes (RFC 6238: SHA-1, 6 digits, 30-second steps, what every
authenticator app speaks); segno draws the QR code as SVG on the server. The replay guard
and the recovery codes are ours, because both must hold across web nodes under races: a
code is spent by a conditional UPDATE, which exactly one of two concurrent requests wins.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from pyotp.exceptions import OTPVerificationError

from casedesk.accounts.models import RecoveryCode, SecurityPolicy, TwoFactor, User, hash_token

RECOVERY_CODES = 10
# A code from the step before or after the current one is accepted too: phones' clocks
# drift, and a code typed in its last seconds arrives in the next step.
DRIFT_STEPS = 1


class TwoFactorError(Exception):
    """A code or password was not accepted; the message is for the person."""


def may_use_two_factor(user: User) -> bool:
    """Agents and admins (staff) may turn on two-factor sign-in; contacts sign in with a
    password only."""
    return user.is_active and (user.is_agent or user.is_staff)


def has_two_factor(user: User) -> bool:
    return TwoFactor.objects.filter(user=user).exists()


def must_enrol(user: User) -> bool:
    """The admins require two-factor sign-in and this agent or admin has not set it up."""
    return (
        may_use_two_factor(user)
        and SecurityPolicy.current().require_two_factor
        and not has_two_factor(user)
    )


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=settings.CASEDESK_TOTP_ISSUER
    )


def qr_code_svg(uri: str, label: str) -> SafeString:
    """The QR code of `uri` as an inline <svg> element, drawn here: no script, no style
    attribute and no data: image, so a strict Content-Security-Policy lets it show."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", svgclass="qr-code", lineclass=None,
        omitsize=False, title=None,
    )
    # The SVG is segno's drawing of the address (no text of ours in it) and a label that
    # is escaped here.
    return mark_safe(  # noqa: S308
        svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    )


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _digits(code: str) -> str:
    return re.sub(r"[\s-]", "", code)


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step whose code `code` is (within the drift allowed), or None."""
    code = _digits(code)
    if not re.fullmatch(r"\d{6}", code):
        return None
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(
            code, for_time=now or timezone.now(), valid_window=DRIFT_STEPS
        )
    except OTPVerificationError:
        return None


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the person's recovery codes with new ones; returns them (shown once)."""
    # 20 hex digits (80 random bits), in groups of five.
    codes = [
        "-".join(re.findall(".{5}", secrets.token_hex(10))) for _ in range(RECOVERY_CODES)
    ]
    user.recovery_codes.all().delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=hash_token(_normal_recovery(code))) for code in codes
    )
    return codes


def _normal_recovery(code: str) -> str:
    return _digits(code).lower()


def enable(user: User, secret: str, code: str) -> list[str]:
    """Turn on two-factor sign-in with the app set up on `secret`, once the person proved
    it works by typing a code from it. Returns the new recovery codes, to show once."""
    step = matching_step(secret, code)
    if step is None:
        raise TwoFactorError(
            _("That code is not the one your app shows. Check the app's clock is right and "
              "type the 6 digits it shows now.")
        )
    with transaction.atomic():
        TwoFactor.objects.filter(user=user).delete()
        TwoFactor.objects.create(user=user, secret=secret, last_step=step)
        end_other_sessions(user)
        return _new_recovery_codes(user)


def end_other_sessions(user: User) -> None:
    """Sign the person out everywhere: a session opened with the password alone (perhaps
    by whoever learnt it) must not outlive turning two-factor sign-in on, and one that
    saw the old recovery codes must not outlive new ones. The view keeps its own session
    with django.contrib.auth.update_session_auth_hash."""
    User.objects.filter(pk=user.pk).update(session_stamp=F("session_stamp") + 1)
    user.refresh_from_db(fields=["session_stamp"])


def _confirmed(user: User, password: str, code: str, refused: Promise) -> None:
    """The password and a code (or a recovery code), or TwoFactorError with `refused`:
    a session left open on a shared computer cannot change the second factor."""
    if not user.check_password(password) or not verify(user, code):
        raise TwoFactorError(refused)


def renew_recovery_codes(user: User, password: str, code: str) -> list[str]:
    """New recovery codes for someone who used or lost theirs; the old ones stop working.
    Returns the new ones, to show once."""
    _confirmed(user, password, code, _(
        "The password or the code is not right. Your recovery codes are unchanged."))
    with transaction.atomic():
        end_other_sessions(user)
        return _new_recovery_codes(user)


def unused_recovery_codes(user: User) -> int:
    return user.recovery_codes.filter(used_at=None).count()


def verify(user: User, code: str) -> bool:
    """Spend `code`: the app's code for a step later than the last one accepted, or an
    unused recovery code. False (and nothing spent) for anything else."""
    device = TwoFactor.objects.filter(user=user).first()
    if device is None:
        return False
    step = matching_step(device.secret, code)
    if step is not None:
        # Conditional: a code already accepted (its step or a later one) is refused, and
        # of two requests with one code at once, only one changes the row.
        return TwoFactor.objects.filter(
            Q(last_step__isnull=True) | Q(last_step__lt=step), pk=device.pk
        ).update(last_step=step) == 1
    normal = _normal_recovery(code)
    if not re.fullmatch(r"[0-9a-f]{20}", normal):
        return False
    return RecoveryCode.objects.filter(
        user=user, code_hash=hash_token(normal), used_at=None
    ).update(used_at=timezone.now()) == 1


def disable(user: User, password: str, code: str) -> None:
    """Turn two-factor sign-in off: it takes the password and a code (or a recovery code),
    so a session left open on a shared computer cannot do it."""
    _confirmed(user, password, code, _(
        "The password or the code is not right. Two-factor sign-in is still on."))
    with transaction.atomic():
        TwoFactor.objects.filter(user=user).delete()
        user.recovery_codes.all().delete()
        end_other_sessions(user)


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the secret, and its QR code."""

    secret: str
    grouped: str
    qr_code: SafeString
    uri: str


def enrolment(user: User, secret: str) -> Enrolment:
    uri = provisioning_uri(user, secret)
    return Enrolment(secret=secret, grouped=grouped_secret(secret),
                     qr_code=qr_code_svg(uri, str(_("QR code for your authenticator app"))),
                     uri=uri)
