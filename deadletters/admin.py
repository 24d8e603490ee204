from django.contrib import admin

from deadletters.models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "shop_domain", "status", "last_status_code", "created_at"]
    list_filter = ["status", "topic"]
    raw_id_fields = ["event", "replayed_by"]
