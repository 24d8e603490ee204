"""The LogEntry model moves here from the console app (`dashboard`), state only.

The table stays as it is (`db_table` keeps the `dashboard_…` name), so no row is copied:
this migration only tells Django's migration state where the model now lives. It follows
dashboard.0005_logs, the last migration that changed it; dashboard.0009_models_moved_out then
removes it from the console app's state and carries the content types over.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0005_logs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LogEntry",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        (
                            "timestamp",
                            models.DateTimeField(
                                help_text="When the line was logged (UTC, to the microsecond), for queries."
                            ),
                        ),
                        (
                            "timestamp_ns",
                            models.BigIntegerField(
                                help_text="The same instant in nanoseconds since the epoch, as sent."
                            ),
                        ),
                        ("app", models.CharField(blank=True, default="", max_length=100)),
                        ("instance", models.CharField(blank=True, default="", max_length=64)),
                        ("region", models.CharField(blank=True, default="", max_length=32)),
                        (
                            "level",
                            models.PositiveSmallIntegerField(
                                choices=[(10, "debug"), (20, "info"), (30, "warning"), (40, "error"), (50, "critical")],
                                default=20,
                            ),
                        ),
                        (
                            "provider",
                            models.CharField(
                                blank=True,
                                default="",
                                help_text="Fly's event.provider: app, proxy, runner …",
                                max_length=32,
                            ),
                        ),
                        ("host", models.CharField(blank=True, default="", max_length=100)),
                        ("message", models.TextField()),
                        (
                            "topic",
                            models.CharField(
                                blank=True, default="", help_text="Webhook topic the message mentions.", max_length=100
                            ),
                        ),
                        (
                            "extra",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="Every field the shipper sent that is not mapped above.",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "log entries",
                        "db_table": "dashboard_logentry",
                        "indexes": [
                            models.Index(fields=["timestamp", "id"], name="logentry_ts"),
                            models.Index(fields=["app", "timestamp", "id"], name="logentry_app_ts"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
