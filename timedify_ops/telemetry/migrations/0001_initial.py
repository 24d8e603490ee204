"""The LatencyMinute, LatencyTotal, MetricCounter models move here from the console app (`dashboard`), state only.

The tables stay as they are (`db_table` keeps the `dashboard_…` names), so no row is copied:
this migration only tells Django's migration state where the models now live. It follows
dashboard.0008_retention_indexes, the last migration that changed them; dashboard.0009_models_moved_out then
removes them from the console app's state and carries the content types over.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0008_retention_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LatencyMinute",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("series", models.CharField(max_length=40)),
                        ("labels", models.CharField(blank=True, default="", max_length=200)),
                        ("count", models.BigIntegerField(default=0)),
                        ("sum_ms", models.FloatField(default=0)),
                        ("b00", models.BigIntegerField(default=0)),
                        ("b01", models.BigIntegerField(default=0)),
                        ("b02", models.BigIntegerField(default=0)),
                        ("b03", models.BigIntegerField(default=0)),
                        ("b04", models.BigIntegerField(default=0)),
                        ("b05", models.BigIntegerField(default=0)),
                        ("b06", models.BigIntegerField(default=0)),
                        ("b07", models.BigIntegerField(default=0)),
                        ("b08", models.BigIntegerField(default=0)),
                        ("b09", models.BigIntegerField(default=0)),
                        ("b10", models.BigIntegerField(default=0)),
                        ("b11", models.BigIntegerField(default=0)),
                        ("b12", models.BigIntegerField(default=0)),
                        ("b13", models.BigIntegerField(default=0)),
                        ("b14", models.BigIntegerField(default=0)),
                        ("b15", models.BigIntegerField(default=0)),
                        ("minute", models.DateTimeField()),
                    ],
                    options={
                        "db_table": "dashboard_latencyminute",
                        "indexes": [models.Index(fields=["minute"], name="latency_minute_time")],
                        "constraints": [
                            models.UniqueConstraint(fields=("series", "minute", "labels"), name="latency_minute_key")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="LatencyTotal",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("series", models.CharField(max_length=40)),
                        ("labels", models.CharField(blank=True, default="", max_length=200)),
                        ("count", models.BigIntegerField(default=0)),
                        ("sum_ms", models.FloatField(default=0)),
                        ("b00", models.BigIntegerField(default=0)),
                        ("b01", models.BigIntegerField(default=0)),
                        ("b02", models.BigIntegerField(default=0)),
                        ("b03", models.BigIntegerField(default=0)),
                        ("b04", models.BigIntegerField(default=0)),
                        ("b05", models.BigIntegerField(default=0)),
                        ("b06", models.BigIntegerField(default=0)),
                        ("b07", models.BigIntegerField(default=0)),
                        ("b08", models.BigIntegerField(default=0)),
                        ("b09", models.BigIntegerField(default=0)),
                        ("b10", models.BigIntegerField(default=0)),
                        ("b11", models.BigIntegerField(default=0)),
                        ("b12", models.BigIntegerField(default=0)),
                        ("b13", models.BigIntegerField(default=0)),
                        ("b14", models.BigIntegerField(default=0)),
                        ("b15", models.BigIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "dashboard_latencytotal",
                        "constraints": [models.UniqueConstraint(fields=("series", "labels"), name="latency_total_key")],
                    },
                ),
                migrations.CreateModel(
                    name="MetricCounter",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=80)),
                        ("labels", models.CharField(blank=True, default="", max_length=200)),
                        ("value", models.FloatField(default=0)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "db_table": "dashboard_metriccounter",
                        "constraints": [models.UniqueConstraint(fields=("name", "labels"), name="metric_counter_key")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
