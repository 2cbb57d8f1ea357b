from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "casedesk.core"
    label = "core"

    def ready(self) -> None:
        from casedesk.core import audit

        audit.connect()
