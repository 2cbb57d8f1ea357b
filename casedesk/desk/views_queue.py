"""The desk's queue: views with their counts, filters, keyset pages, saved views and bulk
actions on the ticked cases.

Reads go through casedesk.desk.queue and casedesk.desk.counts; saved views change only
through casedesk.desk.actions, cases only through casedesk.desk.bulk (which calls the
case actions).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from casedesk.accounts.models import User
from casedesk.core import rows
from casedesk.desk import choices as desk_choices
from casedesk.desk.access import agent_required
from casedesk.desk.actions import SavedViewRefused, delete_view, rename_view, save_view
from casedesk.desk.bulk import BulkRefused, apply_bulk
from casedesk.desk.counts import capped_counts
from casedesk.desk.cursor import BadCursor, make_cursor, read_cursor
from casedesk.desk.forms import (
    BULK_ACTIONS,
    FILTER_NAMES,
    ME,
    BulkActionForm,
    QueueFilterForm,
    SavedViewForm,
    active_agents,
)
from casedesk.desk.models import SavedView
from casedesk.desk.queue import (
    SORTS,
    UNASSIGNED,
    VIEW_NOTES,
    VIEWS,
    Criteria,
    Page,
    find_page,
    in_view,
)
from casedesk.escalation.models import Level
from casedesk.sla.display import attach_time_left
from casedesk.tickets.models import Ticket


def _see_other(url: str) -> HttpResponseRedirect:
    # 303: the browser follows the POST with a GET, so reloading never sends twice.
    return HttpResponseRedirect(url, status=303)


def _agent(request: HttpRequest) -> User:
    # agent_required has let only signed-in agents through.
    return cast(User, request.user)


def visible_views(agent: User) -> list[SavedView]:
    """The agent's own saved views and the ones other agents share, with their owners: by
    fixed statements (every queue page lists them; compiling the ORM's join cost more
    than the reads)."""
    views = rows.select(SavedView, "owner_id = %s OR shared", [agent.pk],
                        tail=" ORDER BY name, id")
    rows.attach([(views, "owner")])
    return views


def criteria_of(view: str, sort: str, data: dict[str, Any]) -> Criteria:
    return Criteria(
        view=view, sort=sort, status=data["status"], priority=data["priority"],
        assignee=data["assignee"], organization=data["organization"], plan=data["plan"],
        category=data["category"], team=data["team"], level=data["level"],
        channel=data["channel"], created_from=data["created_from"],
        created_to=data["created_to"], updated_from=data["updated_from"],
        updated_to=data["updated_to"], q=data["q"],
    )


def view_and_sort(params: QueryDict | dict[str, str]) -> tuple[str, str]:
    # Navigation, not data: an unknown view or sort shows the defaults.
    view = params.get("view") or "open"
    sort = params.get("sort") or "newest"
    return (view if view in VIEWS else "open", sort if sort in SORTS else "newest")


COUNTS_CACHE_SECONDS = 30


def counts_key(agent: User) -> str:
    return f"casedesk:desk-counts:{agent.pk}"


def view_counts(agent: User, saved: list[SavedView],
                choices: dict[str, list[tuple[int, str]]]) -> dict[str, Any]:
    """Capped counts of the built-in views and of each saved view, in one statement.
    A saved view whose filters no longer validate (an organization deleted) has none.

    Kept for COUNTS_CACHE_SECONDS per agent: paging and filtering do not change them, and
    the one statement still reads up to a thousand rows per view (~15 ms at 100,000
    cases). The agent's own bulk actions and saved-view changes refresh them at once;
    other agents' changes show within the half minute.
    """
    signature = [(v.pk, v.updated_at.isoformat(), sorted(v.params.items())) for v in saved]
    cached = cache.get(counts_key(agent))
    if cached is not None and cached[0] == signature:
        return cast(dict[str, Any], cached[1])
    queries = {name: in_view(agent, Criteria(view=name)) for name in VIEWS if name != "all"}
    for view in saved:
        v, s = view_and_sort(view.params)
        form = QueueFilterForm(view.params, view=v, **choices)
        if form.is_valid():
            queries[f"saved-{view.pk}"] = in_view(agent, criteria_of(v, s, form.cleaned_data))
    counts = capped_counts(queries)
    cache.set(counts_key(agent), (signature, counts), COUNTS_CACHE_SECONDS)
    return counts


@agent_required(others_to="portal:home")
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    saved_views = visible_views(agent)
    params: QueryDict | dict[str, str] = request.GET
    current_saved = None
    if request.GET.get("saved"):
        current_saved = next(
            (v for v in saved_views if str(v.pk) == request.GET["saved"]), None
        )
        if current_saved is None:
            messages.warning(request, gettext(
                "That saved view does not exist (any more), or is another agent's: here are "
                "all open cases."))
        else:
            params = {**current_saved.params}
    view, sort = view_and_sort(params)
    choices = desk_choices.choices()
    form = QueueFilterForm(params, view=view, **choices)
    if not form.is_valid():
        # Perhaps a value added since this process read the choices: read them again.
        choices = desk_choices.choices(fresh=True)
        form = QueueFilterForm(params, view=view, **choices)
    page: Page | None = None
    cursors: dict[str, str] = {}
    criteria = None
    if form.is_valid():
        criteria = criteria_of(view, sort, form.cleaned_data)
        position = None
        if request.GET.get("cursor"):
            try:
                position = read_cursor(criteria, request.GET["cursor"])
            except BadCursor as exc:
                messages.warning(request, str(exc))
        page = find_page(
            agent, criteria, position.key if position else None,
            backwards=bool(position and position.backwards),
        )
        # Each row's next SLA due time: one query for the page.
        attach_time_left(page.tickets)
        if page.next_key is not None:
            cursors["next"] = make_cursor(criteria, page.next_key)
        if page.previous_key is not None:
            cursors["previous"] = make_cursor(criteria, page.previous_key, backwards=True)
    used = form.used()
    base_params = {"view": view, "sort": sort, **used}
    if current_saved is not None:
        base_params = {"saved": str(current_saved.pk)}
    counts = view_counts(agent, saved_views, choices)
    return render(request, "desk/queue.html", {
        "view": view, "view_label": current_saved.name if current_saved else VIEWS[view],
        "view_note": VIEW_NOTES[view], "sort": sort,
        "sort_links": [(key, label, urlencode({"view": view, **used, "sort": key}))
                       for key, label in SORTS.items()],
        "views": [(name, label, counts.get(name)) for name, label in VIEWS.items()],
        "saved_views": [(v, counts.get(f"saved-{v.pk}")) for v in saved_views],
        "current_saved": current_saved,
        "form": form, "page": page, "filtered": bool(used), "nav_view": view,
        "base_query": urlencode(base_params),
        "next_query": urlencode({**base_params, "cursor": cursors["next"]})
        if "next" in cursors else "",
        "previous_query": urlencode({**base_params, "cursor": cursors["previous"]})
        if "previous" in cursors else "",
        "save_params": {"view": view, "sort": sort, **used} if form.is_valid() else None,
        "select_all": request.GET.get("select") == "page",
        "elsewhere": _case_elsewhere(form, page),
        "bulk_form": BulkActionForm(agents=choices["agents"], levels=choices["levels"]),
        "bulk_actions": BULK_ACTIONS,
        "save_form": SavedViewForm(),
        # Where the forms bring the agent back: this page, without "select all" (after a
        # bulk action the boxes start empty again, so a second click changes nothing).
        "this_url": request.path + ("?" + urlencode(
            [(k, v) for k, v in request.GET.items() if k != "select"]
        ) if any(k != "select" for k in request.GET) else ""),
    })


def _case_elsewhere(form: QueueFilterForm, page: Page | None) -> int | None:
    """A Case ID searched for that exists but is outside this view or its filters: the
    agent most likely wants that case, so the empty list offers a link to it."""
    if page is None or page.tickets or page.previous_key is not None:
        return None
    wanted = form.cleaned_data["q"].strip().lstrip("#")
    if not wanted.isdigit() or len(wanted) > 18:
        return None
    return int(wanted) if Ticket.objects.filter(pk=int(wanted)).exists() else None


def _back(request: HttpRequest, fallback: str | None = None) -> str:
    """The queue page the form was posted from, or the queue."""
    url = str(request.POST.get("next") or "")
    queue_url = reverse("desk:queue")
    if (url.startswith(queue_url) and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure())):
        return url
    return fallback or queue_url


# ---------------------------------------------------------------- saved views


@agent_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    form = SavedViewForm(request.POST)
    params = {name: str(request.POST[name]) for name in ("view", "sort", *FILTER_NAMES)
              if request.POST.get(name)}
    view, sort = view_and_sort(params)
    params.update(view=view, sort=sort)
    filters = QueueFilterForm(params, view=view, **desk_choices.choices(fresh=True))
    if not form.is_valid():
        messages.error(request, gettext("The view was not saved: %(problem)s") % {
            "problem": " ".join(str(e) for errors in form.errors.values() for e in errors)})
        return _see_other(_back(request))
    if not filters.is_valid():
        messages.error(request, gettext("The view was not saved: fix the filters first."))
        return _see_other(_back(request))
    try:
        saved = save_view(agent, form.cleaned_data["name"], params,
                          shared=form.cleaned_data["shared"])
    except SavedViewRefused as exc:
        messages.error(request, gettext("The view was not saved: %(problem)s") % {"problem": exc})
        return _see_other(_back(request))
    if saved.shared:
        saved_text = gettext("Saved the view “%(name)s”, shared with all agents.")
    else:
        saved_text = gettext("Saved the view “%(name)s”.")
    messages.success(request, saved_text % {"name": saved.name})
    return _see_other(reverse("desk:queue") + f"?saved={saved.pk}")


def _own_view(request: HttpRequest, view_id: int) -> SavedView:
    """The agent's own saved view; anyone else's (shared or not) answers 404: only its
    owner may change it."""
    view = SavedView.objects.filter(pk=view_id, owner=_agent(request)).first()
    if view is None:
        raise Http404("No such saved view.")
    return view


@agent_required
@require_POST
def saved_view_rename(request: HttpRequest, view_id: int) -> HttpResponse:
    view = _own_view(request, view_id)
    form = SavedViewForm(request.POST)
    back = reverse("desk:queue") + f"?saved={view.pk}"
    if not form.is_valid():
        messages.error(request, gettext("Not renamed: %(problem)s") % {
            "problem": " ".join(str(e) for errors in form.errors.values() for e in errors)})
        return _see_other(back)
    try:
        rename_view(view, form.cleaned_data["name"], shared=form.cleaned_data["shared"])
    except SavedViewRefused as exc:
        messages.error(request, gettext("Not renamed: %(problem)s") % {"problem": exc})
        return _see_other(back)
    if view.shared:
        renamed_text = gettext("Saved as “%(name)s”, shared with all agents.")
    else:
        renamed_text = gettext("Saved as “%(name)s”, personal.")
    messages.success(request, renamed_text % {"name": view.name})
    return _see_other(back)


@agent_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = _own_view(request, view_id)
    delete_view(view)
    messages.success(request, gettext("Deleted the view “%(name)s”.") % {"name": view.name})
    return _see_other(reverse("desk:queue"))


# ---------------------------------------------------------------- bulk actions


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    back = _back(request)
    agents = list(active_agents().values_list("pk", "full_name"))
    levels = list(Level.objects.order_by("number").values_list("number", "name"))
    form = BulkActionForm(request.POST, agents=agents, levels=levels)
    if not form.is_valid():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, gettext("Nothing was changed: %(problems)s") % {
            "problems": " ".join(problems)})
        return _see_other(back)
    data = form.cleaned_data
    values: dict[str, Any] = {}
    if data["action"] == "assign":
        choice = data["assignee"]
        values["assignee"] = (agent if choice == ME else None if choice == UNASSIGNED
                              else User.objects.get(pk=int(choice)))
    else:
        values = {"status": data["status"], "priority": data["priority"],
                  "to_level": data["to_level"], "reason": data["reason"],
                  "merge_into": data["merge_into"]}
    try:
        done = apply_bulk(agent, form.case_ids, data["action"], **values)
    except BulkRefused as exc:
        messages.error(request, str(exc))
        return _see_other(back)
    # The agent sees the views' counts move with what they just did.
    cache.delete(counts_key(agent))
    messages.success(request, done.text)
    for warning in done.warnings:
        messages.warning(request, warning)
    return _see_other(back)
