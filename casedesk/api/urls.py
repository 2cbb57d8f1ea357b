from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from casedesk.api import (
    docs,
    problems,
    views_cases,
    views_directory,
    views_kb,
    views_threads,
    views_webhooks,
)

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", docs.RedocView.as_view(url_name="api:schema"), name="redoc"),
    path("organizations", views_directory.OrganizationList.as_view(), name="organizations"),
    path("organizations/<int:organization_id>", views_directory.OrganizationDetail.as_view(),
         name="organization"),
    path("contacts", views_directory.ContactList.as_view(), name="contacts"),
    path("contacts/<int:contact_id>", views_directory.ContactDetail.as_view(), name="contact"),
    path("cases", views_cases.CaseList.as_view(), name="cases"),
    path("cases/<int:case_id>", views_cases.CaseDetail.as_view(), name="case"),
    path("cases/<int:case_id>/messages", views_threads.MessageList.as_view(), name="messages"),
    path("cases/<int:case_id>/attachments/<int:attachment_id>",
         views_threads.AttachmentDownload.as_view(), name="attachment"),
    path("cases/<int:case_id>/escalations", views_threads.EscalationList.as_view(),
         name="escalations"),
    path("kb/articles", views_kb.KbArticleList.as_view(), name="kb_articles"),
    path("kb/articles/<slug:slug>", views_kb.KbArticleDetail.as_view(), name="kb_article"),
    path("webhooks", views_webhooks.WebhookList.as_view(), name="webhooks"),
    path("webhooks/<int:webhook_id>", views_webhooks.WebhookDetail.as_view(), name="webhook"),
    path("webhooks/<int:webhook_id>/deliveries", views_webhooks.WebhookDeliveryList.as_view(),
         name="webhook_deliveries"),
    path("webhooks/<int:webhook_id>/secret", views_webhooks.WebhookSecret.as_view(),
         name="webhook_secret"),
    path("webhooks/<int:webhook_id>/deliveries/<uuid:delivery_id>/replay",
         views_webhooks.WebhookReplay.as_view(), name="webhook_replay"),
    # Any other address under /api/v1/ (a newline in it included) is a problem+json 404.
    re_path(r"^[\s\S]*$", problems.not_found),
]
