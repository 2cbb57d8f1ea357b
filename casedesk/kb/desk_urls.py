from django.urls import path

from casedesk.kb import desk_views

app_name = "kb_desk"
urlpatterns = [
    path("", desk_views.article_list, name="list"),
    path("new/", desk_views.article_edit, name="new"),
    path("<int:article_id>/", desk_views.article_edit, name="edit"),
    path("lookup/", desk_views.lookup, name="lookup"),
]
