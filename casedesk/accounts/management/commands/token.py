"""`casedesk token create|list|revoke`: REST API tokens from the command line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from casedesk.accounts.models import ApiToken, User, normalize_email
from casedesk.accounts.tokens import TokenError, create_token, revoke_token


class Command(BaseCommand):
    help = "Create, list or revoke REST API tokens (the token is printed once, at creation)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a token acting as a person.")
        create.add_argument("--email", required=True, help="The agent's or contact's address.")
        create.add_argument("--name", default="", help="What the token is for.")
        create.add_argument("--expires-days", type=int, default=None,
                            help="Expire after this many days (default: never).")
        listing = actions.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("--email", help="Only this person's tokens.")
        revoke = actions.add_parser("revoke", help="Revoke a token at once.")
        revoke.add_argument("token_id", type=int, help="The token's id, from `token list`.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self.create(options)
        elif action == "list":
            self.list(options)
        else:
            try:
                token = revoke_token(options["token_id"], by=None)
            except TokenError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"Token {token.pk} ({token.prefix}…) of {token.user.email} "
                              "is revoked.")

    def create(self, options: dict[str, Any]) -> None:
        email = normalize_email(options["email"])
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"Nobody has the address {email}. Create the person first.")
        try:
            new = create_token(user, name=options["name"], expires_days=options["expires_days"])
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        role = "agent" if user.is_agent else "contact"
        expires = (f"expires {new.token.expires_at:%Y-%m-%d %H:%M} UTC"
                   if new.token.expires_at else "never expires")
        self.stderr.write(f"Token {new.token.pk} for {user.email} ({role}), {expires}. "
                          "It is shown once; store it now:")
        self.stdout.write(new.secret)

    def list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("pk")
        if options.get("email"):
            tokens = tokens.filter(user__email=normalize_email(options["email"]))
        now = timezone.now()
        for token in tokens:
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            state = ("revoked" if token.revoked_at else
                     "expired" if token.expires_at and token.expires_at <= now else "active")
            self.stdout.write(
                f"{token.pk}\t{token.prefix}…\t{token.user.email}\t{token.name or '-'}\t"
                f"{state}\tcreated {token.created_at:%Y-%m-%d}\tlast used {used}"
            )
