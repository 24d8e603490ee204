from __future__ import annotations

from django.db import models

from dashboard.logs import records


class LogEntry(models.Model):
    """One log line: from the Fly log shipper (POST /logs/ingest) or timedify-ops' own events.

    Written only through dashboard.logs.ingest.insert_rows, which is what keeps the id
    cursor of the live tail exact (see there).
    """

    class Level(models.IntegerChoices):
        DEBUG = records.DEBUG, "debug"
        INFO = records.INFO, "info"
        WARNING = records.WARNING, "warning"
        ERROR = records.ERROR, "error"
        CRITICAL = records.CRITICAL, "critical"

    # The live tail's cursor: the poll is `id > cursor`, served by the primary key.
    id = models.BigAutoField(primary_key=True)
    timestamp = models.DateTimeField(help_text="When the line was logged (UTC, to the microsecond), for queries.")
    timestamp_ns = models.BigIntegerField(help_text="The same instant in nanoseconds since the epoch, as sent.")
    app = models.CharField(max_length=records.MAX_LENGTHS["app"], blank=True, default="")
    instance = models.CharField(max_length=records.MAX_LENGTHS["instance"], blank=True, default="")
    region = models.CharField(max_length=records.MAX_LENGTHS["region"], blank=True, default="")
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.INFO)
    provider = models.CharField(
        max_length=records.MAX_LENGTHS["provider"],
        blank=True,
        default="",
        help_text="Fly's event.provider: app, proxy, runner …",
    )
    host = models.CharField(max_length=records.MAX_LENGTHS["host"], blank=True, default="")
    message = models.TextField()
    topic = models.CharField(
        max_length=records.MAX_LENGTHS["topic"], blank=True, default="", help_text="Webhook topic the message mentions."
    )
    extra = models.JSONField(
        default=dict, blank=True, help_text="Every field the shipper sent that is not mapped above."
    )
    is_error = models.BooleanField(
        default=False, help_text="An error line by timedify_ops.lib.errorlines, decided when the line was stored."
    )

    class Meta:
        # The table the console app created; the model moved here without copying a row.
        db_table = "dashboard_logentry"
        verbose_name_plural = "log entries"
        indexes = [
            # The tail's opening view (selectors.opening_lines): the last N minutes, newest first,
            # read backwards from now and stopping at the window's edge. Retention deletes by age on it too.
            models.Index(fields=["timestamp", "id"], name="logentry_ts"),
            # The same opening view filtered by app, the usual way the tail is opened.
            models.Index(fields=["app", "timestamp", "id"], name="logentry_app_ts"),
            # Error lines by time, and only those (a few in a million): the "Errors" preset's opening
            # view, the error-log-lines alert rule and `alerting_check --any` count a window on it.
            models.Index(fields=["timestamp", "id"], name="logentry_error_ts", condition=models.Q(is_error=True)),
        ]

    def __str__(self) -> str:
        return f"{self.timestamp_text} {self.app} {self.message[:80]}"

    @property
    def timestamp_text(self) -> str:
        return records.format_ns(self.timestamp_ns)

    @property
    def level_label(self) -> str:
        return records.level_label(self.level)

    @property
    def topic_family(self) -> str:
        return records.topic_family(self.topic)
