from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_schedules(sender, **kwargs):
    # Django start-up: the services module imports models, which exist only once the app is ready.
    from timedify_ops.jobs.services import sync_schedules

    sync_schedules()


class JobsConfig(AppConfig):
    name = "timedify_ops.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self):
        # The schedules in timedify_ops.jobs.registry are written after every migrate.
        post_migrate.connect(_sync_schedules, sender=self, dispatch_uid="timedify-sync-schedules")
