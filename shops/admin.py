from django.contrib import admin

from shops.models import Shop, SyntheticRun

# The encrypted token columns are never shown, not even as ciphertext.
TOKEN_FIELDS = ("access_token_encrypted", "refresh_token_encrypted")


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["domain", "installed", "token_state_label", "access_token_expires_at", "last_check_at"]
    list_filter = ["installed", "last_check_ok"]
    search_fields = ["domain"]
    exclude = TOKEN_FIELDS
    readonly_fields = [f.name for f in Shop._meta.fields if f.name not in TOKEN_FIELDS]
    show_full_result_count = False

    @admin.display(description="token")
    def token_state_label(self, shop: Shop) -> str:
        return shop.get_token_state_display()

    def has_add_permission(self, request) -> bool:
        # Tokens come in through manage.py import_offline_tokens, encrypted on the way.
        return False


@admin.register(SyntheticRun)
class SyntheticRunAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "requested_by", "target", "status", "ok"]
    list_filter = ["status", "ok", "target"]
    readonly_fields = [f.name for f in SyntheticRun._meta.fields]
