"""Changes to the desk's own data: agents' saved views.

Views call these; nothing else writes a SavedView.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from casedesk.accounts.models import User
from casedesk.desk.models import SavedView


class SavedViewRefused(Exception):
    """The saved view cannot be changed so; the message is for the agent."""


def _taken(owner: User, name: str) -> SavedViewRefused:
    return SavedViewRefused(gettext(
        "You already have a view named “%(name)s”; choose another name."
    ) % {"name": name})


def save_view(owner: User, name: str, params: dict[str, str], *, shared: bool) -> SavedView:
    """A new saved view of `params` (the queue's query string, already validated)."""
    if not owner.is_agent:
        raise SavedViewRefused(gettext("Only agents save queue views."))
    try:
        # The unique (owner, name) constraint decides a race between two tabs.
        with transaction.atomic():
            return SavedView.objects.create(
                owner=owner, name=name, params=params, shared=shared,
            )
    except IntegrityError:
        raise _taken(owner, name) from None


def rename_view(view: SavedView, name: str, *, shared: bool) -> SavedView:
    if view.name == name and view.shared == shared:
        return view
    try:
        with transaction.atomic():
            SavedView.objects.filter(pk=view.pk).update(
                name=name, shared=shared, updated_at=timezone.now()
            )
    except IntegrityError:
        raise _taken(view.owner, name) from None
    view.name, view.shared = name, shared
    return view


def delete_view(view: SavedView) -> None:
    SavedView.objects.filter(pk=view.pk).delete()
