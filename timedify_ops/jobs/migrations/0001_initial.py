"""The JobRun model moves here from the console app (`dashboard`), state only.

The table stays as it is (`db_table` keeps the `dashboard_…` name), so no row is copied:
this migration only tells Django's migration state where the model now lives. It follows
dashboard.0008_retention_indexes, the last migration that changed it; dashboard.0009_models_moved_out then
removes it from the console app's state and carries the content types over.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0008_retention_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JobRun",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key", models.CharField(max_length=100)),
                        (
                            "trigger",
                            models.CharField(
                                choices=[("schedule", "schedule"), ("manual", "run now"), ("command", "command")],
                                default="schedule",
                                max_length=16,
                            ),
                        ),
                        ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("duration_ms", models.FloatField(blank=True, null=True)),
                        ("ok", models.BooleanField(help_text="Null while running.", null=True)),
                        ("result", models.TextField(blank=True, default="")),
                        ("error", models.TextField(blank=True, default="")),
                        (
                            "triggered_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboard_jobrun",
                        "ordering": ["-started_at", "-id"],
                        "indexes": [
                            models.Index(fields=["key", "-started_at"], name="jobrun_key_started"),
                            models.Index(fields=["started_at"], name="jobrun_started"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
