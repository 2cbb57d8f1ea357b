"""`casedesk createadmin --email E`: an admin agent for scripted installs, without prompts."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from casedesk.accounts.models import User, normalize_email

PASSWORD_ENV = "CASEDESK_ADMIN_PASSWORD"  # noqa: S105 - the variable name


class Command(BaseCommand):
    help = (
        "Create an active admin agent (staff and superuser), or update the one with this "
        f"email address. The password comes from --password or ${PASSWORD_ENV}; prefer the "
        "variable, since a command line is visible to other users of the machine."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The admin's email address.")
        parser.add_argument("--password", help=f"The password (default: ${PASSWORD_ENV}).")
        parser.add_argument("--name", help="Full name (default: Administrator).")

    def handle(self, *args: Any, **options: Any) -> None:
        email = normalize_email(options["email"] or "")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{options['email']!r} is not an email address.") from None
        password = options["password"] or os.environ.get(PASSWORD_ENV, "")
        if not password:
            raise CommandError(f"Give the password with --password or ${PASSWORD_ENV}.")

        with transaction.atomic():
            # Locked so that two scripted runs at once update one row, not race on it.
            user = User.objects.select_for_update().filter(email=email).first()
            created = user is None
            if user is None:
                user = User(email=email, full_name=options["name"] or "Administrator")
            elif options["name"]:
                user.full_name = options["name"]
            user.full_name = user.full_name[:150]
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError("The password is refused: " + " ".join(exc.messages)) from None
            user.role = User.Role.AGENT
            user.is_active = user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()

        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} admin agent {user.email}."))
