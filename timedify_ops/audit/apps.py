from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "timedify_ops.audit"
    label = "audit"
    verbose_name = "Audit trail"
