from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "casedesk.tickets"
    label = "tickets"
