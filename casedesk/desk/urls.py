from django.urls import path

from casedesk.desk import case_views, search, views, views_queue

app_name = "desk"
urlpatterns = [
    path("", views_queue.queue, name="queue"),
    path("search/", search.search, name="search"),
    path("bulk/", views_queue.bulk, name="bulk"),
    path("views/", views_queue.saved_view_create, name="saved_view_create"),
    path("views/<int:view_id>/rename/", views_queue.saved_view_rename, name="saved_view_rename"),
    path("views/<int:view_id>/delete/", views_queue.saved_view_delete, name="saved_view_delete"),
    path("cases/<str:case_id>/", views.case, name="case"),
    path("cases/<str:case_id>/reply/", case_views.reply, name="reply"),
    path("cases/<str:case_id>/update/", views.update, name="update"),
    path("cases/<str:case_id>/escalate/", views.escalate_case, name="escalate"),
    path("cases/<str:case_id>/escalate/phone/", views.phone_escalation, name="phone_escalation"),
    path(
        "cases/<str:case_id>/files/<int:attachment_id>/<str:filename>",
        views.attachment, name="attachment",
    ),
    path("cases/<str:case_id>/cc/", case_views.cc_add, name="cc_add"),
    path("cases/<str:case_id>/cc/remove/", case_views.cc_remove, name="cc_remove"),
    path("cases/<str:case_id>/links/", case_views.link_add, name="link_add"),
    path("cases/<str:case_id>/links/remove/", case_views.link_remove, name="link_remove"),
    path("cases/<str:case_id>/merge/", case_views.merge, name="merge"),
    path("cases/<str:case_id>/presence/", case_views.presence, name="presence"),
    path("macros/", case_views.macro_list, name="macros"),
    path("macros/new/", case_views.macro_edit, name="macro_new"),
    path("macros/<int:macro_id>/", case_views.macro_edit, name="macro_edit"),
    path("macros/<int:macro_id>/delete/", case_views.macro_delete, name="macro_delete"),
]
