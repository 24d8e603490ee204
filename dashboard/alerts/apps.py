from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "dashboard.alerts"
    label = "alerts"
    verbose_name = "Alerting"

    def ready(self):
        # Django start-up: the checks read the rule registry, which imports models (ready only now).
        from dashboard.alerts import checks  # noqa: F401 - registers the settings checks
