from django.urls import path

from casedesk.escalation import views

app_name = "escalation"
urlpatterns = [
    path("", views.widget, name="widget"),
    path("sent/", views.sent, name="sent"),
    # The single-use link mailed to a case's requester; only its hash is stored.
    path("confirm/<str:token>/", views.confirm, name="confirm"),
]
