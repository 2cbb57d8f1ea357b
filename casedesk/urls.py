from django.contrib import admin
from django.urls import include, path

from casedesk.accounts.views import admin_signin, set_language

admin.site.site_header = "casedesk administration"
admin.site.site_title = "casedesk admin"

urlpatterns = [
    # Before the admin's own: the admin is signed in to through casedesk's sign-in, with
    # its throttling and its two-factor step.
    path("admin/login/", admin_signin, name="admin_signin"),
    path("admin/", admin.site.urls),
    path("accounts/", include("casedesk.accounts.urls")),
    path("api/v1/", include("casedesk.api.urls")),
    path("", include("casedesk.api.page_urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("desk/reports/", include("casedesk.reports.urls")),
    path("desk/webhooks/", include("casedesk.webhooks.urls")),
    path("desk/kb/", include("casedesk.kb.desk_urls")),
    path("desk/audit/", include("casedesk.core.audit_urls")),
    path("kb/", include("casedesk.kb.urls")),
    path("desk/", include("casedesk.desk.urls")),
    path("escalate/", include("casedesk.escalation.urls")),
    path("", include("casedesk.ops.urls")),
    path("", include("casedesk.portal.urls")),
]

handler400 = "casedesk.core.views.bad_request"
handler403 = "casedesk.core.views.permission_denied"
handler404 = "casedesk.core.views.page_not_found"
handler500 = "casedesk.core.views.server_error"
