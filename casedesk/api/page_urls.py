from django.urls import path

from casedesk.api import pages

app_name = "api_pages"
urlpatterns = [
    path("desk/tokens/", pages.desk_tokens, name="desk_tokens"),
    path("desk/tokens/<int:token_id>/revoke/", pages.desk_revoke, name="desk_revoke"),
    path("account/tokens/", pages.portal_tokens, name="portal_tokens"),
    path("account/tokens/<int:token_id>/revoke/", pages.portal_revoke, name="portal_revoke"),
]
