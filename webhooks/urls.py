from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("shopify", views.ingress, name="ingress"),
    # Per-topic endpoints as the Shopify app template subscribes them: /webhooks/app/uninstalled …
    path("<path:topic>", views.ingress, name="ingress-topic"),
]
