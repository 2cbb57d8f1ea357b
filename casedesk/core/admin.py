from django.contrib import admin
from django.http import HttpRequest

from casedesk.core.models import AuditEntry, SiteConfiguration


@admin.register(SiteConfiguration)
class SiteConfigurationAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SiteConfiguration.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit history, to read: nobody adds, edits or deletes an entry."""

    list_display = ["at", "actor_email", "address", "via", "action", "object_type",
                    "object_repr"]
    list_filter = ["via", "action", "object_type"]
    search_fields = ["actor_email", "object_repr", "object_id"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
