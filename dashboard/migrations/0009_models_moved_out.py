"""The console app's models now live in their own apps; this removes them from its state.

Nothing changes in the database: every table keeps its `dashboard_…` name (the new apps' models
set `db_table`), so no row is copied or moved. The content types follow the models, renamed in
place (same ids), so permissions, the groups and users that hold them, and the admin's log
entries keep pointing at the right model. A content type of the new app that exists already
(`migrate` of a new app alone runs post_migrate, which creates it) is merged into the old row:
its permissions, their holders and its log entries move over, and it goes.
"""

from django.db import migrations

# model (lower case, as content types name it) → its new app label.
MOVED = {
    "auditentry": "audit",
    "jobrun": "jobs",
    "latencyminute": "telemetry",
    "latencytotal": "telemetry",
    "metriccounter": "telemetry",
    "probestate": "health",
    "probeflip": "health",
    "probehour": "health",
    "proberesult": "health",
    "logentry": "logs",
    "slodailyreport": "slo",
    "slominute": "slo",
    "rulestate": "alerts",
    "alert": "alerts",
    "notification": "alerts",
    "retentionrun": "retention",
}


def _move(apps, moves):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    for model, (old_label, new_label) in moves.items():
        old = ContentType.objects.filter(app_label=old_label, model=model).first()
        if old is None:
            continue  # a fresh database: post_migrate creates the content types after this run
        new = ContentType.objects.filter(app_label=new_label, model=model).first()
        if new is not None:
            # Made by post_migrate after a partial `migrate`: its permissions (and whoever holds them)
            # and log entries join the old row, which keeps its id, and it goes.
            for permission in Permission.objects.filter(content_type=new):
                twin = Permission.objects.filter(content_type=old, codename=permission.codename).first()
                if twin is None:
                    permission.content_type = old
                    permission.save(update_fields=["content_type"])
                    continue
                twin.group_set.add(*permission.group_set.all())
                twin.user_set.add(*permission.user_set.all())
                permission.delete()
            LogEntry.objects.filter(content_type=new).update(content_type=old)
            new.delete()
        old.app_label = new_label
        old.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    _move(apps, {model: ("dashboard", label) for model, label in MOVED.items()})


def backwards(apps, schema_editor):
    _move(apps, {model: (label, "dashboard") for model, label in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0008_retention_indexes"),
        ("audit", "0001_initial"),
        ("jobs", "0001_initial"),
        ("telemetry", "0001_initial"),
        ("health", "0001_initial"),
        ("logs", "0001_initial"),
        ("slo", "0001_initial"),
        ("alerts", "0001_initial"),
        ("retention", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                # Relations first, then the models they point at.
                migrations.DeleteModel(name="Notification"),
                migrations.DeleteModel(name="Alert"),
                migrations.DeleteModel(name="RuleState"),
                migrations.DeleteModel(name="RetentionRun"),
                migrations.DeleteModel(name="SloDailyReport"),
                migrations.DeleteModel(name="SloMinute"),
                migrations.DeleteModel(name="LogEntry"),
                migrations.DeleteModel(name="ProbeState"),
                migrations.DeleteModel(name="ProbeFlip"),
                migrations.DeleteModel(name="ProbeHour"),
                migrations.DeleteModel(name="ProbeResult"),
                migrations.DeleteModel(name="LatencyMinute"),
                migrations.DeleteModel(name="LatencyTotal"),
                migrations.DeleteModel(name="MetricCounter"),
                migrations.DeleteModel(name="JobRun"),
                migrations.DeleteModel(name="AuditEntry"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
