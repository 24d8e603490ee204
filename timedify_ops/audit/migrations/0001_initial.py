"""The AuditEntry model moves here from the console app (`dashboard`), state only.

The table stays as it is (`db_table` keeps the `dashboard_…` name), so no row is copied:
this migration only tells Django's migration state where the model now lives. It follows
dashboard.0001_initial, the last migration that changed it; dashboard.0009_models_moved_out then
removes it from the console app's state and carries the content types over.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("actor_name", models.CharField(blank=True, default="", max_length=150)),
                        (
                            "action",
                            models.CharField(help_text="e.g. deadletter.replay, schedule.run_now", max_length=64),
                        ),
                        ("target_type", models.CharField(blank=True, default="", max_length=64)),
                        ("target_id", models.CharField(blank=True, default="", max_length=64)),
                        ("count", models.PositiveIntegerField(default=1)),
                        ("summary", models.TextField(blank=True, default="")),
                        ("details", models.JSONField(blank=True, default=dict)),
                        (
                            "actor",
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
                        "db_table": "dashboard_auditentry",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["-created_at", "-id"], name="audit_created"),
                            models.Index(fields=["target_type", "target_id"], name="audit_target"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
