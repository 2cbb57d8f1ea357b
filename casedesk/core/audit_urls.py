from django.urls import path

from casedesk.core import audit_views

app_name = "audit"
urlpatterns = [
    path("", audit_views.audit_history, name="history"),
]
