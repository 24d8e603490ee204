from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The console shell: the overview, the audit page, the schedules page, the runbook and /metrics."""

    name = "dashboard"
    verbose_name = "Console"
