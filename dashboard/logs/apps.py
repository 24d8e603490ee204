from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "dashboard.logs"
    label = "logs"
    verbose_name = "Logs"
