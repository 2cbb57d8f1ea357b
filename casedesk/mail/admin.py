from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from casedesk.mail.jobs import retry_now
from casedesk.mail.models import OutboundMail


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    """Failed deliveries are listed here with their error, and can be sent again."""

    list_display = ["created_at", "kind", "to", "subject", "status", "attempts", "last_error"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject", "message_id"]
    readonly_fields = [f.name for f in OutboundMail._meta.fields]
    actions = ["send_again"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Send again now")
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundMail]) -> None:
        count = retry_now(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} message(s) queued again.", messages.SUCCESS)
