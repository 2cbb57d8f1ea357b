"""The desk's webhook pages, for admins (agents with admin rights) only: anyone else gets
the same 404 as for a page that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casedesk.accounts.models import User
from casedesk.desk.access import agent_required
from casedesk.webhooks import actions
from casedesk.webhooks.forms import SubscriptionForm
from casedesk.webhooks.models import Delivery, Subscription

PAGE_SIZE = 50
SHOWN_ONCE = "webhooks:new-secret:{}"  # noqa: S105 - a session key


def admin_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @agent_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not (isinstance(user, User) and (user.is_staff or user.is_superuser)):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def _subscription(subscription_id: int) -> Subscription:
    return get_object_or_404(Subscription.objects.select_related("organization"),
                             pk=subscription_id)


@admin_required
def subscriptions(request: HttpRequest) -> HttpResponse:
    rows = Subscription.objects.select_related("organization").annotate(
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        waiting=Count("deliveries", filter=Q(deliveries__status__in=[
            Delivery.Status.PENDING, Delivery.Status.SENDING])),
    )
    return render(request, "webhooks/list.html", {"subscriptions": rows})


@admin_required
def create(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = actions.create_subscription(
                form.data_for_action(), request.user  # type: ignore[arg-type]
            )
        except actions.SubscriptionError as error:
            # The name resolved when checked and not a moment later, or the like.
            for name, message in error.errors.items():
                form.add_error(name if name in form.fields else None, message)
        else:
            request.session[SHOWN_ONCE.format(subscription.pk)] = secret
            return redirect("webhooks:detail", subscription.pk)
    return render(request, "webhooks/form.html", {"form": form},
                  status=400 if form.errors else 200)


@admin_required
def edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(subscription_id)
    form = (SubscriptionForm(request.POST) if request.method == "POST"
            else SubscriptionForm.for_subscription(subscription))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_subscription(subscription.pk, form.data_for_action())
        except actions.SubscriptionError as error:
            for name, message in error.errors.items():
                form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, _("Subscription saved."))
            return redirect("webhooks:detail", subscription.pk)
    return render(request, "webhooks/form.html", {"form": form, "subscription": subscription},
                  status=400 if form.errors else 200)


@admin_required
def detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(subscription_id)
    status = request.GET.get("status", "")
    deliveries = Delivery.objects.filter(subscription=subscription).select_related("event")
    if status in Delivery.Status.values:
        deliveries = deliveries.filter(status=status)
    else:
        status = ""
    page = Paginator(deliveries.order_by("-event_id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "webhooks/detail.html", {
        "subscription": subscription, "page": page, "status": status,
        "statuses": Delivery.Status.choices,
        # Shown once: taken out of the session as it is shown.
        "secret": request.session.pop(SHOWN_ONCE.format(subscription.pk), None),
    })


@admin_required
def delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(subscription_id)
    if request.method == "POST":
        actions.delete_subscription(subscription.pk)
        messages.success(request, _("Subscription deleted."))
        return redirect("webhooks:list")
    return render(request, "webhooks/delete.html", {"subscription": subscription})


@admin_required
@require_POST
def secret(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(subscription_id)
    request.session[SHOWN_ONCE.format(subscription.pk)] = actions.roll_secret(subscription.pk)
    return redirect("webhooks:detail", subscription.pk)


def _delivery(delivery_id: UUID) -> Delivery:
    return get_object_or_404(Delivery.objects.select_related("subscription", "event"),
                             pk=delivery_id)


@admin_required
def delivery(request: HttpRequest, delivery_id: UUID) -> HttpResponse:
    found = _delivery(delivery_id)
    return render(request, "webhooks/delivery.html", {
        "delivery": found, "subscription": found.subscription,
        "attempts": found.attempt_log.order_by("-number"),
    })


@admin_required
@require_POST
def replay(request: HttpRequest, delivery_id: UUID) -> HttpResponse:
    found = _delivery(delivery_id)
    if actions.replay(found) == "queued":
        messages.success(request, _("Replay queued: the delivery is sent again in a moment."))
    else:
        messages.success(request, _("The next attempt is due now."))
    return redirect("webhooks:delivery", found.pk)
