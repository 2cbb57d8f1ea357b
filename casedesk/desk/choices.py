"""The queue filters' choices (agents, organizations, plans, categories, levels), kept in
each process.

Read on every queue page they were five queries, 2,000 organizations among them, about a
tenth of the page's CPU. They change rarely, so each process keeps what it read under a
version held in the shared cache: saving or deleting one of those models sets a new version
(the receivers below; cache invalidation, no business flow) and every process reads the
choices again at its next page. A change that sends no signal (QuerySet.update(),
bulk_create(), raw SQL), or a per-process cache in another process, shows within
MAX_AGE_SECONDS. A filter value that is not among the kept choices makes the page read
them again before it calls the value unknown (casedesk.desk.views_queue), so a link to a
new organization always works.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from casedesk.accounts.models import Organization, User
from casedesk.escalation.models import Level
from casedesk.sla.models import Plan
from casedesk.tickets.models import Category

Choices = dict[str, list[tuple[int, str]]]

VERSION_KEY = "casedesk:desk-choices-version"
MAX_AGE_SECONDS = 60
# The fields of a user the agents' list shows or selects by: a sign-in (last_login) or a
# password change does not make the lists read again.
USER_FIELDS = frozenset({"full_name", "email", "role", "is_active"})

_kept: tuple[str, float, Choices] | None = None
_options: tuple[Choices, list[tuple[int, str]]] | None = None


def read() -> Choices:
    """The choices as the database has them now."""
    from casedesk.desk.forms import active_agents

    return {
        "agents": list(active_agents().values_list("pk", "full_name")),
        "organizations": list(Organization.objects.order_by("name").values_list("pk", "name")),
        "plans": list(Plan.objects.order_by("name").values_list("pk", "name")),
        "categories": list(
            Category.objects.filter(is_active=True).order_by("position", "name")
            .values_list("pk", "name")
        ),
        "levels": list(Level.objects.order_by("number").values_list("number", "name")),
    }


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        # None also when the cache was emptied or is down: a new version, read again.
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, None):
            version = cache.get(VERSION_KEY) or version
    return str(version)


def choices(fresh: bool = False) -> Choices:
    """The choices, as kept by this process while current; read again when `fresh`."""
    global _kept
    version = _version()
    now = time.monotonic()
    kept = _kept
    if not fresh and kept is not None and kept[0] == version and now - kept[1] < MAX_AGE_SECONDS:
        return kept[2]
    found = read()
    _kept = (version, now, found)
    return found


def agent_options() -> list[tuple[int, str]]:
    """The active agents as the case page's assignee select lists them (User.get_full_name:
    the name, else the address), kept like the choices, with them."""
    global _options
    current = choices()
    if _options is None or _options[0] is not current:
        names = dict(current["agents"])
        blank = [pk for pk, name in current["agents"] if not name]
        emails = dict(User.objects.filter(pk__in=blank).values_list("pk", "email")) if blank else {}
        _options = (current, [(pk, names[pk] or emails.get(pk, "")) for pk, _ in current["agents"]])
    return _options[1]


def changed(**kwargs: Any) -> None:
    """A receiver: the kept choices are out of date in every process."""
    update_fields = kwargs.get("update_fields")
    if kwargs.get("sender") is User and update_fields and not USER_FIELDS & set(update_fields):
        return
    _new_version()
    # Again after the commit: a process that read in between kept the old rows under the
    # first new version.
    transaction.on_commit(_new_version)


def _new_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def connect() -> None:
    for model in (User, Organization, Plan, Category, Level):
        post_save.connect(changed, sender=model, dispatch_uid=f"desk-choices-save-{model}")
        post_delete.connect(changed, sender=model, dispatch_uid=f"desk-choices-delete-{model}")
