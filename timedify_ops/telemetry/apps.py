from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "timedify_ops.telemetry"
    label = "telemetry"
    verbose_name = "Telemetry"

    def ready(self):
        # Django start-up: queries imports the recorder, which imports models that exist only now.
        from timedify_ops.telemetry import queries

        queries.connect()
