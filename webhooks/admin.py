from django.contrib import admin

from webhooks.models import DeliveryAttempt, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "shop_domain", "webhook_id", "status", "attempts", "received_at"]
    list_filter = ["status", "topic", "synthetic"]
    search_fields = ["webhook_id", "shop_domain", "event_id"]
    exclude = ["body"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields if f.name != "body"]
    show_full_result_count = False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "number", "started_at", "duration_ms", "status_code", "is_replay"]
    raw_id_fields = ["event"]
    show_full_result_count = False
