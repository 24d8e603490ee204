from django.core.management.base import BaseCommand

from timedify_ops.jobs.services import sync_schedules


class Command(BaseCommand):
    help = "Write the code-defined django-q2 schedules (timedify_ops.jobs.registry.JOBS); idempotent."

    def handle(self, *args, **options):
        sync_schedules(stdout=self.stdout)
