from django.contrib import admin

from timedify_ops.jobs.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["key", "trigger", "started_at", "duration_ms", "ok"]
    list_filter = ["key", "ok"]
