from django.urls import path

from casedesk.kb import views

app_name = "kb"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("suggest/", views.suggestions, name="suggest"),
    path("suggest/event/", views.form_event, name="form_event"),
    path("open/<slug:slug>/", views.open_suggestion, name="open"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("articles/<slug:slug>/helpful/", views.helpful, name="helpful"),
]
