"""The audit history: who changed who may do what, and everything changed in the admin.

Recorded by model hooks (pre_save/post_save/post_delete/m2m_changed), not in views, so a
change is caught the same way whether it came from the admin site, the desk, the API, a
command or a worker job; and in the change's own transaction, so the entry and the change
are stored or rolled back together. These hooks are history, not business flow: nothing
else happens because of them.

What is watched: the models and fields in WATCHED, always; and, while a request is served
by the admin site, every model (but sessions and the log tables). Changes made with a bulk
`QuerySet.update()` send no signal and are not seen; casedesk's own code changes these
models one row at a time.

Other code (two-factor sign-in, say) records its own events with `record_audit`.

Django's admin LogEntry is left as it is: it covers the admin site only, keeps no address
and no field values, so it cannot answer "who made this person an admin, from where, and
what were they before".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.http import HttpRequest, HttpResponse

from casedesk.core import rows
from casedesk.core.net import client_address

logger = logging.getLogger(__name__)

current_request: ContextVar[HttpRequest | None] = ContextVar(
    "casedesk_audit_request", default=None
)

# Values never written into the history, only that they changed.
SECRET_FIELDS = {"password", "secret", "token_hash"}
HIDDEN = "(hidden)"
# Never recorded, even from the admin: bookkeeping, not anyone's decision.
IGNORED = {"sessions.session", "admin.logentry", "contenttypes.contenttype",
           "core.auditentry"}


@dataclass(frozen=True)
class Watch:
    fields: tuple[str, ...] | None  # None: every concrete field
    many: tuple[str, ...] = ()


WATCHED: dict[str, Watch] = {
    "accounts.user": Watch(
        ("email", "role", "is_active", "is_staff", "is_superuser", "organization",
         "case_visibility"),
        many=("groups", "user_permissions"),
    ),
    "auth.group": Watch(("name",), many=("permissions",)),
    "accounts.organization": Watch(("name", "plan", "org_wide_visibility")),
    "accounts.apitoken": Watch(("user", "name", "prefix", "expires_at", "revoked_at")),
    "webhooks.subscription": Watch(
        ("url", "description", "secret", "events", "organization", "is_active")
    ),
    "escalation.level": Watch(None, many=("team",)),
    "escalation.shift": Watch(None),
    "sla.plan": Watch(None),
    "sla.target": Watch(None),
    "core.siteconfiguration": Watch(None),
    # Two-factor sign-in turned on or off (by the person, or an admin deleting the row),
    # and the policy that requires it. The key itself is never written, only that it changed.
    "accounts.twofactor": Watch(("user", "secret", "confirmed_at")),
    "accounts.securitypolicy": Watch(None),
}


def label(model: type[models.Model] | models.Model) -> str:
    return model._meta.label_lower


class AuditMiddleware:
    """Makes the request (its user, address and door) known to the hooks below."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


def _via(request: HttpRequest | None) -> str:
    if request is None:
        return "cli"
    match = getattr(request, "resolver_match", None)
    if match is not None and match.app_name == "admin":
        return "admin"
    path = request.path_info
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/desk/"):
        return "desk"
    return "portal"


def _in_admin(request: HttpRequest | None) -> bool:
    return _via(request) == "admin"


def _actor(request: HttpRequest | None) -> Any:
    # DRF authenticates in the view and sets the token's user on the Django request too.
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def record_audit(
    actor: Any, action: str, obj: models.Model | None, changes: dict[str, Any],
    request: HttpRequest | None = None, *, object_type: str = "",
) -> Any:
    """Write one entry. `actor` is the person who did it (None: the system, or the request's
    user when a request is given or being served); `changes` maps a field to
    [before, after]. Call inside the transaction of the change."""
    from casedesk.core.models import AuditEntry

    request = request if request is not None else current_request.get()
    if actor is None:
        actor = _actor(request)
    address = (client_address(request) or None) if request is not None else None
    # rows.insert: every contact made from an email is recorded, and compiling the ORM's
    # INSERT cost more than running it (no hook watches AuditEntry: IGNORED).
    return rows.insert(AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        address=address,
        via=_via(request),
        action=action,
        object_type=object_type or (label(obj) if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=_text(obj)[:200] if obj is not None else "",
        changes=changes,
    ))


def _text(obj: Any) -> str:
    try:
        return str(obj)
    except Exception:  # a __str__ that needs a missing relation must not stop the change
        return f"{type(obj).__name__} {getattr(obj, 'pk', '')}"


# -- the hooks ---------------------------------------------------------------------------


def _watch_for(sender: type[models.Model]) -> Watch | None:
    if sender._meta.apps is not global_apps:
        return None  # a migration's historical model: the audit table may not exist yet
    name = label(sender)
    if name in WATCHED:
        return WATCHED[name]
    if name in IGNORED or sender._meta.auto_created:
        return None
    if _in_admin(current_request.get()):
        return Watch(None)
    return None


def _fields(sender: type[models.Model], watch: Watch) -> list[models.Field[Any, Any]]:
    concrete = [f for f in sender._meta.concrete_fields if not f.primary_key]
    if watch.fields is None:
        return concrete
    return [f for f in concrete if f.name in watch.fields]


def _value(field: models.Field[Any, Any], value: Any) -> Any:
    if field.name in SECRET_FIELDS:
        return HIDDEN if value else ""
    if isinstance(value, FieldFile):
        return value.name or ""  # a file (the site's logo) is recorded by its stored name
    return value


def _snapshot(sender: type[models.Model], watch: Watch, instance: models.Model) -> dict[str, Any]:
    return {f.name: _value(f, getattr(instance, f.attname)) for f in _fields(sender, watch)}


def _before_save(sender: type[models.Model], instance: models.Model, raw: bool = False,
                 update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
    watch = _watch_for(sender)
    if watch is None or raw or instance._state.adding or instance.pk is None:
        return
    fields = _fields(sender, watch)
    if update_fields is not None:
        fields = [f for f in fields if f.name in set(update_fields) or f.attname in
                  set(update_fields)]
        if not fields:
            return
    stored = sender._default_manager.filter(pk=instance.pk).values(*[f.attname for f in fields])
    row = stored.first()
    instance._audit_before = (  # type: ignore[attr-defined]
        None if row is None else {f.name: _value(f, row[f.attname]) for f in fields}
    )


def _after_save(sender: type[models.Model], instance: models.Model, created: bool,
                raw: bool = False, **kwargs: Any) -> None:
    watch = _watch_for(sender)
    if watch is None or raw:
        return
    after = _snapshot(sender, watch, instance)
    before = instance.__dict__.pop("_audit_before", None)
    if not created and before is None:
        return  # no watched field was saved (update_fields), or the row was gone
    if created:
        changes = {name: [None, value] for name, value in after.items()
                   if value not in (None, "", [], {})}
        record_audit(None, "create", instance, changes)
        return
    changes = {name: [before[name], after[name]] for name in before
               if before[name] != after[name]}
    if not changes:
        return
    action = "change"
    if label(sender) == "accounts.apitoken" and set(changes) == {"revoked_at"}:
        action = "revoke" if after["revoked_at"] is not None else "change"
    record_audit(None, action, instance, changes)


def _after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    watch = _watch_for(sender)
    if watch is None:
        return
    before = _snapshot(sender, watch, instance)
    record_audit(None, "delete", instance, {
        name: [value, None] for name, value in before.items() if value not in (None, "")
    })


# Many-to-many: (through model) -> (owning model's label, field name), filled in at start.
_MANY: dict[type[models.Model], tuple[type[models.Model], str]] = {}


def _names(owner: models.Model, field: str) -> list[str]:
    return sorted(_text(item) for item in getattr(owner, field).all())


def _owners(sender: type[models.Model], instance: Any, reverse: bool,
            pk_set: set[Any] | None) -> list[models.Model]:
    model, field = _MANY[sender]
    if not reverse:
        return [instance]
    if pk_set is None:  # clearing from the other side: everyone related now
        return list(model._default_manager.filter(**{field: instance}))
    return list(model._default_manager.filter(pk__in=pk_set))


def _many_changed(sender: type[models.Model], instance: Any, action: str, reverse: bool,
                  pk_set: set[Any] | None, **kwargs: Any) -> None:
    if sender not in _MANY:
        return
    model, field = _MANY[sender]
    if action in ("pre_add", "pre_remove", "pre_clear"):
        owners = _owners(sender, instance, reverse, pk_set)
        instance._audit_many = [(o, _names(o, field)) for o in owners]  # type: ignore[attr-defined]
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    for owner, before in instance.__dict__.pop("_audit_many", []):
        after = _names(owner, field)
        if before != after:
            record_audit(None, "change", owner, {field: [before, after]})


def connect() -> None:
    """Called once from CoreConfig.ready."""
    for name, watch in WATCHED.items():
        try:
            model = global_apps.get_model(name)
        except LookupError:
            continue
        for field in watch.many:
            through = model._meta.get_field(field).remote_field.through  # type: ignore[union-attr]
            _MANY[through] = (model, field)
            m2m_changed.connect(_many_changed, sender=through,
                                dispatch_uid=f"casedesk-audit-{name}-{field}")
    pre_save.connect(_before_save, dispatch_uid="casedesk-audit-pre-save")
    post_save.connect(_after_save, dispatch_uid="casedesk-audit-post-save")
    post_delete.connect(_after_delete, dispatch_uid="casedesk-audit-post-delete")
