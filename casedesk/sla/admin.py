from typing import Any

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from casedesk.sla import calendar as sla_calendar
from casedesk.sla.clocks import schedule_recompute
from casedesk.sla.models import Calendar, Clock, Holiday, Plan, Target, WeeklyHours


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "calendar", "warn_percent", "escalate_on_breach"]
    fields = ["name", "is_default", "calendar", "warn_percent", "escalate_on_breach"]
    inlines = [TargetInline]

    def save_related(self, request: HttpRequest, form: forms.ModelForm,
                     formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(f.has_changed() for f in formsets)):
            # Running cases keep their clocks; a job recomputes them from their original
            # starts after this save commits, a batch of cases at a time.
            schedule_recompute(plan_id=form.instance.pk)
            self.message_user(
                request, "The due times of this plan's open cases are being recomputed "
                "from their original starts; the case pages show it within a minute."
            )


class CalendarForm(forms.ModelForm):
    class Meta:
        model = Calendar
        fields = "__all__"  # noqa: DJ007 (the admin shows every field of a calendar)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Calendar.clean() would check "ever open" against the stored weekly hours; here
        # the hours inline checks it against the hours being submitted instead.
        self.instance.open_check_deferred = True


class WeeklyHoursFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        hours = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            hours.append((data["weekday"], data["start"], data["end"]))
        try:
            self.instance.check_open(hours=hours)
        except sla_calendar.InvalidCalendar:
            # A bad time zone or country: its field above shows the message.
            return


class WeeklyHoursInline(admin.TabularInline):
    model = WeeklyHours
    formset = WeeklyHoursFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    form = CalendarForm
    list_display = ["name", "time_zone", "always_open", "country_holidays", "subdivision"]
    readonly_fields = ["created_at"]
    search_fields = ["name"]
    inlines = [WeeklyHoursInline, HolidayInline]

    def save_related(self, request: HttpRequest, form: forms.ModelForm,
                     formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(f.has_changed() for f in formsets)):
            # The plans counting in this calendar get their open cases recomputed.
            schedule_recompute(calendar_id=form.instance.pk)


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin):
    """Read-only: clocks change only with their case (casedesk.sla.clocks) and the sweep."""

    list_display = ["ticket", "kind", "plan", "priority", "started_at", "due_at", "met_at",
                    "breached_at", "paused_at", "cancelled_at"]
    list_filter = ["kind", "plan"]
    search_fields = ["=ticket__id"]
    date_hierarchy = "started_at"
    list_select_related = ["plan"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
