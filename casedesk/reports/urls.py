from django.urls import path

from casedesk.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>.svg", views.chart, name="chart"),
    path("<slug:slug>.csv", views.csv_download, name="csv"),
]
