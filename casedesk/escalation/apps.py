from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "casedesk.escalation"
    label = "escalation"
