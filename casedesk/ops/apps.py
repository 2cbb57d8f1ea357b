from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: health and readiness probes, Prometheus metrics, JSON logs with request
    ids, backups."""

    name = "casedesk.ops"
    label = "ops"
