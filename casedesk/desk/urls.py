from django.urls import path

from casedesk.desk import search, views

app_name = "desk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("search/", search.search, name="search"),
    path("cases/<str:case_id>/", views.case, name="case"),
    path("cases/<str:case_id>/reply/", views.reply, name="reply"),
    path("cases/<str:case_id>/update/", views.update, name="update"),
    path("cases/<str:case_id>/escalate/", views.escalate_case, name="escalate"),
    path("cases/<str:case_id>/escalate/phone/", views.phone_escalation, name="phone_escalation"),
    path(
        "cases/<str:case_id>/files/<int:attachment_id>/<str:filename>",
        views.attachment, name="attachment",
    ),
]
