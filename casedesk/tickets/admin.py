from django.contrib import admin
from django.http import HttpRequest

from casedesk.tickets.models import Category, Event, Ticket


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active"]
    list_editable = ["position", "is_active"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only here: cases change through the desk, which records every change."""

    list_display = ["id", "subject", "requester", "organization", "priority", "status"]
    list_filter = ["status", "priority", "channel"]
    search_fields = ["id", "subject"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
