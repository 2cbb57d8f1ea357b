from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from casedesk.escalation.models import (
    Escalation,
    EscalationRequest,
    Level,
    Shift,
    agent_zone,
    on_shift,
)


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = [
        "number", "name", "contact_name", "email", "phone", "show_on_portal", "team_size",
        "ack_target_minutes",
    ]
    filter_horizontal = ["team"]
    readonly_fields = ["coverage"]
    fieldsets = [
        (None, {"fields": ["number", "name", "show_on_portal"]}),
        ("Contacts shown on the portal", {"fields": ["contact_name", "email", "phone"]}),
        ("Team", {"fields": ["team", "coverage", "ack_target_minutes", "notify_emails"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Level]:
        return super().get_queryset(request).prefetch_related("team")

    @admin.display(description="team")
    def team_size(self, level: Level) -> int:
        return len(level.team.all())

    @admin.display(description="who is on shift now")
    def coverage(self, level: Level) -> SafeString | str:
        """Each team member's shifts, in their time zone, and whether they work right now:
        an admin sees a gap in cover before a case falls into it."""
        if level.pk is None:
            return "Save the level, then add its team."
        now = timezone.now()
        rows = []
        for agent in level.team.prefetch_related("shifts").order_by("full_name"):
            shifts = list(agent.shifts.all())
            zone = agent.time_zone or "UTC"
            if str(agent_zone(agent.time_zone)) != zone:
                zone += " (unknown: read as UTC)"
            working = "on shift now" if on_shift(agent, now, shifts) else "off shift"
            listed = ", ".join(str(s) for s in shifts) or "no shifts: never picked"
            rows.append((agent.get_full_name(), working, zone, listed))
        if not rows:
            return "Nobody: escalations to this level stay unassigned and alert its contacts."
        return format_html_join(
            "", "<p><strong>{}</strong>: {} · {} · {}</p>", rows
        )


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["agent", "weekday", "start", "end", "time_zone"]
    list_filter = ["weekday", "agent"]
    list_select_related = ["agent"]
    ordering = ["agent__full_name", "weekday", "start"]

    @admin.display(description="in time zone")
    def time_zone(self, shift: Shift) -> str:
        return shift.agent.time_zone or "UTC"


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: shown, never edited (escalate() writes it)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at", "ticket_id", "from_level", "to_level", "source", "actor", "assigned_to",
        "nobody_on_shift",
    ]
    list_filter = ["source", "to_level", "nobody_on_shift"]
    list_select_related = ["actor", "assigned_to"]
    search_fields = ["=ticket__id", "reason", "caller_name", "caller_phone"]
    date_hierarchy = "created_at"


@admin.register(EscalationRequest)
class EscalationRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case_id", "email", "matched", "used_at", "expires_at", "ip"]
    list_filter = ["used_at"]
    search_fields = ["=case_id", "email"]
    exclude = ["token_hash"]
    date_hierarchy = "created_at"

    @admin.display(boolean=True, description="matched the requester")
    def matched(self, request: EscalationRequest) -> bool:
        return request.ticket_id is not None
