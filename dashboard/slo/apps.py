from django.apps import AppConfig


class SloConfig(AppConfig):
    name = "dashboard.slo"
    label = "slo"
    verbose_name = "SLOs"
