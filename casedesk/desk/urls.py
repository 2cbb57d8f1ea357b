from django.urls import path

from casedesk.desk import search, views, views_queue

app_name = "desk"
urlpatterns = [
    path("", views_queue.queue, name="queue"),
    path("search/", search.search, name="search"),
    path("bulk/", views_queue.bulk, name="bulk"),
    path("views/", views_queue.saved_view_create, name="saved_view_create"),
    path("views/<int:view_id>/rename/", views_queue.saved_view_rename, name="saved_view_rename"),
    path("views/<int:view_id>/delete/", views_queue.saved_view_delete, name="saved_view_delete"),
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
