"""The RuleState, Alert, Notification models move here from the console app (`dashboard`), state only.

The tables stay as they are (`db_table` keeps the `dashboard_…` names), so no row is copied:
this migration only tells Django's migration state where the models now live. It follows
dashboard.0007_alerting, the last migration that changed them; dashboard.0009_models_moved_out then
removes them from the console app's state and carries the content types over.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0007_alerting"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RuleState",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key", models.CharField(max_length=64, unique=True)),
                        ("evaluated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("available", models.BooleanField(default=True)),
                        ("breaching", models.BooleanField(default=False)),
                        ("pending_since", models.DateTimeField(blank=True, null=True)),
                        ("value", models.FloatField(blank=True, null=True)),
                        ("detail", models.TextField(blank=True, default="")),
                        (
                            "error",
                            models.TextField(
                                blank=True, default="", help_text="Why the last evaluation failed, if it did."
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboard_rulestate",
                    },
                ),
                migrations.CreateModel(
                    name="Alert",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("rule_key", models.CharField(max_length=64)),
                        ("title", models.CharField(max_length=200)),
                        (
                            "category",
                            models.CharField(help_text="health (exit 1) or pattern/slo (exit 2)", max_length=16),
                        ),
                        ("severity", models.CharField(default="warning", max_length=16)),
                        ("pending_since", models.DateTimeField(help_text="When the condition started to hold.")),
                        ("fired_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("last_seen_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        ("value", models.FloatField(blank=True, null=True)),
                        ("peak_value", models.FloatField(blank=True, null=True)),
                        ("threshold", models.FloatField(blank=True, null=True)),
                        ("unit", models.CharField(blank=True, default="", max_length=16)),
                        ("detail", models.TextField(blank=True, default="")),
                        ("last_notified_at", models.DateTimeField(blank=True, null=True)),
                        ("repeats", models.PositiveIntegerField(default=0)),
                        ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "acknowledged_by",
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
                        "db_table": "dashboard_alert",
                        "ordering": ["-fired_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "channel",
                            models.CharField(
                                choices=[("slack", "Slack"), ("webhook", "webhook"), ("email", "email")], max_length=16
                            ),
                        ),
                        (
                            "event",
                            models.CharField(
                                choices=[
                                    ("fire", "fire"),
                                    ("repeat", "repeat"),
                                    ("resolve", "resolve"),
                                    ("test", "test"),
                                    ("report", "report"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("ok", models.BooleanField()),
                        (
                            "status_code",
                            models.PositiveIntegerField(
                                blank=True, help_text="Null on a network error or email.", null=True
                            ),
                        ),
                        ("error", models.TextField(blank=True, default="")),
                        ("attempts", models.PositiveIntegerField(default=1)),
                        ("duration_ms", models.FloatField(default=0)),
                        ("target", models.CharField(blank=True, default="", max_length=300)),
                        (
                            "alert",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="alerts.alert",
                            ),
                        ),
                        (
                            "requested_by",
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
                        "db_table": "dashboard_notification",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.AddIndex(
                    model_name="alert",
                    index=models.Index(fields=["-fired_at", "-id"], name="alert_fired"),
                ),
                migrations.AddConstraint(
                    model_name="alert",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=("rule_key",),
                        name="alert_one_open_per_rule",
                    ),
                ),
                migrations.AddIndex(
                    model_name="notification",
                    index=models.Index(
                        condition=models.Q(("ok", False)), fields=["-created_at"], name="notification_failed"
                    ),
                ),
                migrations.AddIndex(
                    model_name="notification",
                    index=models.Index(fields=["created_at"], name="notification_created"),
                ),
            ],
            database_operations=[],
        ),
    ]
