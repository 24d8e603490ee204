from django.contrib import admin

from dashboard.models import AuditEntry, JobRun


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_name", "action", "target_type", "target_id", "count"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["key", "trigger", "started_at", "duration_ms", "ok"]
    list_filter = ["key", "ok"]
