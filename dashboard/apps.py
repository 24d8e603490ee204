from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_schedules(sender, **kwargs):
    from timedify_ops.schedules import sync_schedules

    sync_schedules()


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self):
        # The schedules in timedify_ops.schedules are written after every migrate.
        post_migrate.connect(_sync_schedules, sender=self, dispatch_uid="timedify-sync-schedules")
        from dashboard import querytelemetry

        querytelemetry.connect()
        # Alert rule overrides in settings must name existing rules (issue 7).
        from dashboard.alerts import checks  # noqa: F401
