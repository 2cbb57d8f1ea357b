from django.urls import path

from casedesk.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    # A signed, short-lived token naming the new case: the confirmation page needs no session.
    path("submitted/<str:token>/", views.submitted, name="submitted"),
    path("cases/", views.cases, name="cases"),
    path("cases/<str:case_id>/", views.case, name="case"),
    path("cases/<str:case_id>/reply/", views.reply, name="reply"),
    path("cases/<str:case_id>/close/", views.close, name="close"),
    path("cases/<str:case_id>/reopen/", views.reopen, name="reopen"),
    path(
        "cases/<str:case_id>/files/<int:attachment_id>/<str:filename>",
        views.attachment, name="attachment",
    ),
    path("branding/logo", views.logo, name="logo"),
]
