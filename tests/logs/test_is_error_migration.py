"""Lines stored before LogEntry.is_error existed are classified by the migration that adds it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from dashboard.logs.models import LogEntry

APP = LogEntry._meta.app_label
BEFORE = (APP, "0001_initial")
AFTER = (APP, "0002_logentry_is_error")


@pytest.mark.django_db(transaction=True)
def test_the_migration_classifies_the_lines_already_stored():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps.get_model(APP, "LogEntry")
        now = timezone.now()
        for level, message, extra in [
            (20, "GET /health 200 15ms", {}),
            (20, "Admin API responded 429 Too Many Requests", {}),
            (40, "anything at level error", {}),
            (20, "request finished", {"http": {"response": {"status_code": 503}}}),
            (20, "took 503ms", {}),
        ]:
            old.objects.create(timestamp=now, timestamp_ns=0, level=level, message=message, extra=extra)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    flagged = dict(LogEntry.objects.values_list("message", "is_error"))
    assert flagged == {
        "GET /health 200 15ms": False,
        "Admin API responded 429 Too Many Requests": True,
        "anything at level error": True,
        "request finished": True,
        "took 503ms": False,
    }
