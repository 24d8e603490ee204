"""The ProbeState, ProbeFlip, ProbeHour, ProbeResult models move here from the console app (`dashboard`), state only.

The tables stay as they are (`db_table` keeps the `dashboard_…` names), so no row is copied:
this migration only tells Django's migration state where the models now live. It follows
dashboard.0004_health, the last migration that changed them; dashboard.0009_models_moved_out then
removes them from the console app's state and carries the content types over.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0004_health"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ProbeState",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("probe", models.CharField(max_length=64, unique=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("unknown", "unknown"),
                                    ("up", "up"),
                                    ("degraded", "degraded"),
                                    ("down", "down"),
                                ],
                                default="unknown",
                                max_length=10,
                            ),
                        ),
                        ("status_since", models.DateTimeField(blank=True, null=True)),
                        ("consecutive_failures", models.PositiveIntegerField(default=0)),
                        ("consecutive_successes", models.PositiveIntegerField(default=0)),
                        ("first_checked_at", models.DateTimeField(blank=True, null=True)),
                        ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "last_state",
                            models.CharField(
                                blank=True,
                                choices=[("ok", "ok"), ("warn", "warning"), ("fail", "failed")],
                                default="",
                                max_length=8,
                            ),
                        ),
                        ("last_latency_ms", models.FloatField(blank=True, null=True)),
                        ("last_detail", models.CharField(blank=True, default="", max_length=500)),
                    ],
                    options={
                        "db_table": "dashboard_probestate",
                        "ordering": ["probe"],
                    },
                ),
                migrations.CreateModel(
                    name="ProbeFlip",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("probe", models.CharField(max_length=64)),
                        ("at", models.DateTimeField()),
                        (
                            "from_status",
                            models.CharField(
                                choices=[
                                    ("unknown", "unknown"),
                                    ("up", "up"),
                                    ("degraded", "degraded"),
                                    ("down", "down"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "to_status",
                            models.CharField(
                                choices=[
                                    ("unknown", "unknown"),
                                    ("up", "up"),
                                    ("degraded", "degraded"),
                                    ("down", "down"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("detail", models.CharField(blank=True, default="", max_length=500)),
                        ("until", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "dashboard_probeflip",
                        "ordering": ["-at", "-id"],
                        "indexes": [
                            models.Index(fields=["to_status", "-at"], name="probe_flip_to_at"),
                            models.Index(fields=["probe", "-at"], name="probe_flip_probe_at"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ProbeHour",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("probe", models.CharField(max_length=64)),
                        ("hour", models.DateTimeField(help_text="Start of the UTC hour.")),
                        ("checks", models.PositiveIntegerField(default=0)),
                        ("failures", models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "dashboard_probehour",
                        "indexes": [models.Index(fields=["hour"], name="probe_hour_hour")],
                        "constraints": [models.UniqueConstraint(fields=("probe", "hour"), name="probe_hour_unique")],
                    },
                ),
                migrations.CreateModel(
                    name="ProbeResult",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("probe", models.CharField(max_length=64)),
                        ("checked_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "state",
                            models.CharField(
                                choices=[("ok", "ok"), ("warn", "warning"), ("fail", "failed")], max_length=8
                            ),
                        ),
                        ("latency_ms", models.FloatField(blank=True, null=True)),
                        ("detail", models.CharField(blank=True, default="", max_length=500)),
                    ],
                    options={
                        "db_table": "dashboard_proberesult",
                        "ordering": ["-checked_at", "-id"],
                        "indexes": [
                            models.Index(fields=["probe", "checked_at"], name="probe_result_probe_time"),
                            models.Index(fields=["checked_at"], name="probe_result_time"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
