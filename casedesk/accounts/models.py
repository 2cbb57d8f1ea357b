"""Organizations (partners), their contacts, agents, and invitations."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from casedesk.core import rows


def language_choices() -> list[tuple[str, str]]:
    """The languages of settings.LANGUAGES. A callable, so that adding a language is a
    settings change, not a migration."""
    return [(code, str(name)) for code, name in settings.LANGUAGES]


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    plan = models.ForeignKey(
        "sla.Plan", on_delete=models.PROTECT, related_name="organizations", null=True, blank=True,
        help_text="Empty means the default plan.",
    )
    email_domains = models.TextField(
        blank=True,
        help_text="One domain per line. A new contact whose address is at one of them joins "
        "this organization.",
    )
    org_wide_visibility = models.BooleanField(
        default=True,
        help_text="Contacts see all of the organization's cases (each contact may override).",
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(
        max_length=10, choices=language_choices, default="en",
        help_text="What casedesk writes to the organization's people in, unless a person "
        "chose their own.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def domain_list(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.email_domains.split() if d.strip()]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("role", User.Role.AGENT)
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


def normalize_email(address: str) -> str:
    """Addresses are compared case-insensitively: one person, one account."""
    return address.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a customer contact of a partner organization, or an agent."""

    class Role(models.TextChoices):
        CONTACT = "contact", _("Contact")
        AGENT = "agent", _("Agent")

    class Visibility(models.TextChoices):
        INHERIT = "inherit", _("As the organization says")
        ORGANIZATION = "organization", _("All of the organization's cases")
        OWN = "own", _("Only their own cases")

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CONTACT)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="contacts"
    )
    case_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.INHERIT,
        help_text="Overrides the organization's visibility switch for this contact.",
    )
    time_zone = models.CharField(max_length=64, blank=True)
    language = models.CharField(
        max_length=10, choices=language_choices, blank=True,
        help_text="The language of their mail (and pages). Empty: the organization's.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the admin site.")
    date_joined = models.DateTimeField(default=timezone.now)
    # Set when mail to this address bounced permanently; cleared when they write to us again.
    email_bouncing_at = models.DateTimeField(null=True, blank=True)
    # Raised when two-factor sign-in is turned on or off or the recovery codes are made
    # again: part of the session hash, so every other session of the person ends
    # (casedesk.accounts.twofactor.end_other_sessions).
    session_stamp = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    # What a page needs of a related user to say who they are (get_full_name, is_agent,
    # role, organization) is the rest: `User.not_shown(...)` lists these when a page loads
    # the authors of a thread, the password hash and three timestamps among them.
    NOT_SHOWN = ("password", "last_login", "is_superuser", "phone", "case_visibility",
                 "time_zone", "language", "is_staff", "date_joined", "email_bouncing_at",
                 "session_stamp")

    @classmethod
    def not_shown(cls, relation: str) -> list[str]:
        """The fields a page need not load of the user at `relation`, for defer()."""
        return [f"{relation}__{name}" for name in cls.NOT_SHOWN]

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's hash of the password, mixed with the stamp once it was raised: a session
        # signed in before the stamp changed no longer matches and is signed out. A stamp
        # of 0 leaves Django's hash as it is, so no session ends when this field arrives.
        base = super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        if not self.session_stamp:
            return str(base)
        return salted_hmac("casedesk.accounts.User.session_stamp",
                           f"{base}:{self.session_stamp}", secret=secret,
                           algorithm="sha256").hexdigest()

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_agent(self) -> bool:
        return self.role == self.Role.AGENT and self.is_active

    def sees_organization_cases(self) -> bool:
        if self.organization_id is None:
            return False
        if self.case_visibility == self.Visibility.ORGANIZATION:
            return True
        if self.case_visibility == self.Visibility.OWN:
            return False
        return self.organization is not None and self.organization.org_wide_visibility


def known_languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def organization_of(user: User) -> Organization | None:
    """user.organization, read (when not loaded yet) by rows.select: every mail to a
    contact asks for it (language_for), and compiling the ORM's query cost more than
    running it. Kept on the user as the ORM would."""
    if user.organization_id is None:
        return None
    if not User.organization.is_cached(user):  # type: ignore[attr-defined]
        found = rows.select(Organization, "id = %s", [user.organization_id])
        if not found:
            return None
        user.organization = found[0]
    return user.organization


def saved_language(user: User) -> str:
    """The person's own language, else their organization's; "" when neither is set (a
    code no longer in settings.LANGUAGES counts as not set). The pages then follow the
    browser; mail (language_for) follows the site."""
    known = known_languages()
    if user.language in known:
        return user.language
    organization = organization_of(user)
    if organization is not None and organization.language in known:
        return organization.language
    return ""


def language_for(user: User | None) -> str:
    """The language to write to `user` in: their own choice, else their organization's,
    else the site's."""
    return (saved_language(user) if user is not None else "") or settings.LANGUAGE_CODE


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Invitation(models.Model):
    """A single-use, expiring link that lets a new contact set a password.

    Only the token's hash is stored: a copy of the database does not let anyone sign in.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"Invitation for {self.user.email}"

    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class ApiToken(models.Model):
    """A bearer token for the REST API (casedesk.api). It acts as its user: an agent's
    token as that agent, a contact's as that contact in the portal.

    Only a SHA-256 hash of the token is stored (it is 256 random bits, so a fast hash is
    enough: nobody can guess it back from the hash); `prefix`, its first characters, is
    kept to tell tokens apart in lists without revealing them.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'API token'})"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class TwoFactor(models.Model):
    """A person's authenticator app (TOTP, RFC 6238), once they confirmed it with a code.

    `last_step` is the 30-second time step of the last code accepted: a code is taken only
    for a later step (a conditional update, so of two requests racing with one code, one
    wins), which makes every code single-use, even within its window.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor")
    # The shared secret (base32). The app computes codes from it, so it cannot be hashed.
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(default=timezone.now)
    last_step = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("two-factor sign-in")
        verbose_name_plural = _("two-factor sign-ins")

    def __str__(self) -> str:
        return f"Two-factor sign-in for {self.user.email}"


class RecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator (a lost phone). Only its
    SHA-256 hash is kept: 80 random bits, so a fast hash cannot be guessed back."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "code_hash"], name="recoverycode_user_hash")]

    def __str__(self) -> str:
        return f"Recovery code for {self.user.email}"


SECURITY_POLICY_CACHE_KEY = "casedesk:security-policy"


class SecurityPolicy(models.Model):
    """One row: the sign-in rules an admin sets for the whole desk."""

    require_two_factor = models.BooleanField(
        _("require two-factor sign-in for agents and admins"), default=False,
        help_text=_("Agents and admins without an authenticator app are sent to set one up "
                    "after their password, and can open nothing else until they have."),
    )

    class Meta:
        verbose_name = _("security policy")
        verbose_name_plural = _("security policy")

    def __str__(self) -> str:
        return str(_("Security policy"))

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        cache.delete(SECURITY_POLICY_CACHE_KEY)

    @classmethod
    def current(cls) -> SecurityPolicy:
        """The policy, cached for a minute (read on every agent's request). With Redis the
        cache is shared, so a change is seen at once; without, each process sees it within
        the minute, or at once in the process that saved it."""
        policy = cache.get(SECURITY_POLICY_CACHE_KEY)
        if policy is None:
            policy = cls.objects.filter(pk=1).first() or cls(pk=1)
            cache.set(SECURITY_POLICY_CACHE_KEY, policy, 60)
        return policy
