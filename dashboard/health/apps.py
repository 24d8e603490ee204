from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "dashboard.health"
    label = "health"
    verbose_name = "Health probes"

    def ready(self):
        # Django start-up: the checks read the app's modules, which import models (ready only now).
        from dashboard.health import checks  # noqa: F401 - registers the settings checks
