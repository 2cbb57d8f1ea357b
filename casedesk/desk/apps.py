from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "casedesk.desk"
    label = "desk"
