from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "casedesk.desk"
    label = "desk"

    def ready(self) -> None:
        from casedesk.desk import choices

        choices.connect()
