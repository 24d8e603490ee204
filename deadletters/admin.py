from django.contrib import admin

from deadletters.models import BulkAction, DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "shop_domain", "status", "last_status_code", "created_at"]
    list_filter = ["status", "topic"]
    raw_id_fields = ["event", "replayed_by", "replay_requested_by", "bulk_action"]
    # The console's own page size, so bench/deadletters.py compares the same rows at the same depth.
    list_per_page = 50


@admin.register(BulkAction)
class BulkActionAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "actor_name", "expected", "seen", "done", "failed", "created_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["created_by"]
