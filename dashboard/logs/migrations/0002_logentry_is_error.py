"""LogEntry.is_error: the one definition of an error line (timedify_ops.lib.errorlines), stored at
ingest. Lines already stored are classified here, in batches of ids, each batch its own transaction
(the migration is not atomic), so a large log store is not held in one long transaction; only the
few error lines are written."""

from django.db import migrations, models, transaction

from timedify_ops.lib import errorlines

BATCH = 5000


def classify_stored_lines(apps, schema_editor):
    LogEntry = apps.get_model("logs", "LogEntry")
    using = schema_editor.connection.alias
    last = 0
    while True:
        rows = list(
            LogEntry.objects.using(using)
            .filter(id__gt=last)
            .order_by("id")
            .values_list("id", "message", "level", "extra")[:BATCH]
        )
        if not rows:
            return
        errors = [
            pk
            for pk, message, level, extra in rows
            if errorlines.is_error(message, level=level, fields=extra if isinstance(extra, dict) else None)
        ]
        if errors:
            with transaction.atomic(using=using):
                LogEntry.objects.using(using).filter(id__in=errors).update(is_error=True)
        last = rows[-1][0]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("logs", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="logentry",
            name="is_error",
            field=models.BooleanField(
                default=False,
                help_text="An error line by timedify_ops.lib.errorlines, decided when the line was stored.",
            ),
        ),
        migrations.RunPython(classify_stored_lines, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="logentry",
            index=models.Index(
                condition=models.Q(("is_error", True)), fields=["timestamp", "id"], name="logentry_error_ts"
            ),
        ),
    ]
