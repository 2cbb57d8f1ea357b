from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "casedesk.core"
    label = "core"
