from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from casedesk.core.downloads import content_disposition, protect
from casedesk.mail.inbound_jobs import process_again
from casedesk.mail.jobs import retry_now
from casedesk.mail.models import InboundMessage, OutboundMail

INBOUND_FIELDS = (
    "status", "result", "reason", "error", "ticket", "ticket_message", "received_at", "source",
    "envelope_from", "envelope_to", "from_header", "subject", "message_id", "size",
    "sha256", "attempts", "processed_at", "next_attempt_at", "raw_download",
)


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    """Failed deliveries are listed here with their error, and can be sent again."""

    list_display = [
        "created_at", "kind", "to", "cc_short", "subject", "language", "status", "attempts",
        "last_error",
    ]
    list_filter = ["status", "kind", "language"]
    search_fields = ["to", "cc", "subject", "message_id"]
    readonly_fields = [f.name for f in OutboundMail._meta.fields]
    actions = ["send_again"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="cc")
    def cc_short(self, mail: OutboundMail) -> str:
        return ", ".join(mail.cc_list())

    @admin.action(description="Send again now")
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundMail]) -> None:
        count = retry_now(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} message(s) queued again.", messages.SUCCESS)


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Received mail: quarantined messages are listed with their error, can be downloaded
    as they arrived, and processed again after a fix."""

    list_display = [
        "received_at", "source", "from_header", "subject", "status", "result", "reason",
        "ticket", "short_error",
    ]
    list_filter = ["status", "source"]
    search_fields = ["message_id", "from_header", "envelope_from", "subject"]
    fields = INBOUND_FIELDS
    readonly_fields = INBOUND_FIELDS
    actions = ["process_again_action"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMessage]:
        # The raw bytes (up to 25 MB each) are read only by the download view.
        return super().get_queryset(request).defer("raw")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Viewable, never edited: the bytes are evidence, and processing is the job's.
        return False

    @admin.display(description="error")
    def short_error(self, inbound: InboundMessage) -> str:
        return inbound.error.partition("\n")[0][:200]

    @admin.display(description="original message")
    def raw_download(self, inbound: InboundMessage) -> str:
        url = reverse("admin:mail_inboundmessage_raw", args=[inbound.pk])
        return format_html('<a href="{}">Download (.eml, {} bytes)</a>', url, inbound.size)

    def get_urls(self) -> list[URLPattern]:
        raw = path(
            "<int:inbound_id>/raw/", self.admin_site.admin_view(self.raw_view),
            name="mail_inboundmessage_raw",
        )
        return [raw, *super().get_urls()]

    def raw_view(self, request: HttpRequest, inbound_id: int) -> HttpResponseBase:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        inbound = get_object_or_404(InboundMessage, pk=inbound_id)
        # message/rfc822 as an attachment: opened by a mail client, never rendered here.
        response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
        response["Content-Disposition"] = content_disposition(f"inbound-{inbound.pk}.eml")
        return protect(response)

    @admin.action(description="Process again")
    def process_again_action(
        self, request: HttpRequest, queryset: QuerySet[InboundMessage]
    ) -> None:
        count = process_again(list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request, f"{count} message(s) queued to be processed again.", messages.SUCCESS
        )
