"""The webhook topics a Shopify app subscribes to by default (DESIGN.md; WEBHOOK_TOPICS overrides)."""

DEFAULT_TOPICS: tuple[str, ...] = (
    "app/uninstalled",
    "app/scopes_update",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
    "app_subscriptions/update",
)
