from django.apps import AppConfig


class SloConfig(AppConfig):
    name = "dashboard.slo"
    label = "slo"
    verbose_name = "SLOs"

    def ready(self):
        # Django start-up: the checks read the app's modules, which import models (ready only now).
        from dashboard.slo import checks  # noqa: F401 - registers the settings checks
