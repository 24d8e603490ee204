"""The RetentionRun model moves here from the console app (`dashboard`), state only.

The table stays as it is (`db_table` keeps the `dashboard_…` name), so no row is copied:
this migration only tells Django's migration state where the model now lives. It follows
dashboard.0007_alerting, the last migration that changed it; dashboard.0009_models_moved_out then
removes it from the console app's state and carries the content types over.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0007_alerting"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RetentionRun",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "trigger",
                            models.CharField(default="schedule", help_text="schedule | command", max_length=16),
                        ),
                        ("dry_run", models.BooleanField(default=False)),
                        ("ok", models.BooleanField(help_text="Null while running.", null=True)),
                        (
                            "complete",
                            models.BooleanField(
                                default=False, help_text="False when the time budget ran out with rows left."
                            ),
                        ),
                        (
                            "event_days",
                            models.PositiveIntegerField(
                                help_text="The webhook-event age used (RETENTION_EVENT_DAYS or DAYS)."
                            ),
                        ),
                        ("deleted", models.JSONField(blank=True, default=dict)),
                        ("skipped", models.JSONField(blank=True, default=list)),
                        ("duration_ms", models.FloatField(blank=True, null=True)),
                        ("error", models.TextField(blank=True, default="")),
                    ],
                    options={
                        "db_table": "dashboard_retentionrun",
                        "ordering": ["-started_at", "-id"],
                        "indexes": [models.Index(fields=["dry_run", "-started_at"], name="retention_run_started")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
