from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "dashboard.retention"
    label = "retention"
    verbose_name = "Retention"
