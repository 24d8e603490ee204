"""The SloDailyReport, SloMinute models move here from the console app (`dashboard`), state only.

The tables stay as they are (`db_table` keeps the `dashboard_…` names), so no row is copied:
this migration only tells Django's migration state where the models now live. It follows
dashboard.0006_slo, the last migration that changed them; dashboard.0009_models_moved_out then
removes them from the console app's state and carries the content types over.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0006_slo"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SloDailyReport",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("date", models.DateField(unique=True)),
                        ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("all_met", models.BooleanField(null=True)),
                        ("slos", models.JSONField(default=dict)),
                        ("received", models.IntegerField(default=0)),
                        ("delivered", models.IntegerField(default=0)),
                        ("dead_lettered", models.IntegerField(default=0)),
                        ("replayed", models.IntegerField(default=0)),
                        ("incidents", models.JSONField(blank=True, default=list, null=True)),
                        ("top_topics", models.JSONField(default=list)),
                        ("top_shops", models.JSONField(default=list)),
                        ("notified_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "dashboard_slodailyreport",
                        "ordering": ["-date"],
                    },
                ),
                migrations.CreateModel(
                    name="SloMinute",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("minute", models.DateTimeField(help_text="Start of the UTC minute.", unique=True)),
                        ("ingress_count", models.IntegerField(default=0)),
                        ("ingress_sum_ms", models.FloatField(default=0)),
                        ("i00", models.IntegerField(default=0)),
                        ("i01", models.IntegerField(default=0)),
                        ("i02", models.IntegerField(default=0)),
                        ("i03", models.IntegerField(default=0)),
                        ("i04", models.IntegerField(default=0)),
                        ("i05", models.IntegerField(default=0)),
                        ("i06", models.IntegerField(default=0)),
                        ("i07", models.IntegerField(default=0)),
                        ("i08", models.IntegerField(default=0)),
                        ("i09", models.IntegerField(default=0)),
                        ("i10", models.IntegerField(default=0)),
                        ("i11", models.IntegerField(default=0)),
                        ("i12", models.IntegerField(default=0)),
                        ("i13", models.IntegerField(default=0)),
                        ("i14", models.IntegerField(default=0)),
                        ("i15", models.IntegerField(default=0)),
                        ("ingress_5xx", models.IntegerField(default=0)),
                        ("received", models.IntegerField(default=0)),
                        ("dead_lettered", models.IntegerField(default=0)),
                        ("delivered_first_try", models.IntegerField(default=0)),
                        ("delivered_after_retries", models.IntegerField(default=0)),
                        ("attempts", models.IntegerField(default=0)),
                        ("attempts_failed", models.IntegerField(default=0)),
                        ("app_sum_ms", models.FloatField(default=0)),
                        ("a00", models.IntegerField(default=0)),
                        ("a01", models.IntegerField(default=0)),
                        ("a02", models.IntegerField(default=0)),
                        ("a03", models.IntegerField(default=0)),
                        ("a04", models.IntegerField(default=0)),
                        ("a05", models.IntegerField(default=0)),
                        ("a06", models.IntegerField(default=0)),
                        ("a07", models.IntegerField(default=0)),
                        ("a08", models.IntegerField(default=0)),
                        ("a09", models.IntegerField(default=0)),
                        ("a10", models.IntegerField(default=0)),
                        ("a11", models.IntegerField(default=0)),
                        ("a12", models.IntegerField(default=0)),
                        ("a13", models.IntegerField(default=0)),
                        ("a14", models.IntegerField(default=0)),
                        ("a15", models.IntegerField(default=0)),
                        ("probe_checks", models.IntegerField(default=0)),
                        ("probe_up", models.IntegerField(default=0)),
                        ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "db_table": "dashboard_slominute",
                        "ordering": ["minute"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
