from django.urls import path

from casedesk.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscriptions, name="list"),
    path("new/", views.create, name="create"),
    path("<int:subscription_id>/", views.detail, name="detail"),
    path("<int:subscription_id>/edit/", views.edit, name="edit"),
    path("<int:subscription_id>/delete/", views.delete, name="delete"),
    path("<int:subscription_id>/secret/", views.secret, name="secret"),
    path("deliveries/<uuid:delivery_id>/", views.delivery, name="delivery"),
    path("deliveries/<uuid:delivery_id>/replay/", views.replay, name="replay"),
]
