"""The demo: not the product. Installed only by its own settings (demo.settings), never by
timedify_ops.settings, so no product process ever imports it.

    seed/         `manage.py seed_demo` (under demo.settings): a realistic week, one writer per room,
                  each writing through the rooms' own code and result builders
    content.py    shops, topics, webhook payloads and Fly-shaped log lines (shared by the seed and the processes)
    receiver.py   the demo's Shopify app on 127.0.0.1:8765: answers forwarded webhooks (sometimes slow,
                  sometimes 500, rarely 404), its /health (sometimes failing briefly), and the
                  Admin API calls of the hourly token check
    simulator.py  Shopify and Fly's log shipper: signed webhooks to the ingress (with the odd
                  duplicate) and log batches to /logs/ingest
    shipper.py    batches log lines to /logs/ingest as the Fly log shipper does

Started by `python3 scripts/dev.py demo` (`make demo`). The processes (receiver, simulator, shipper)
run without Django settings.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The processes (receiver, simulator) start without Django settings; a Django process must be the demo's.
if settings.configured and "demo" not in settings.INSTALLED_APPS:
    raise ImproperlyConfigured(
        "the demo is not part of the product: it runs under its own settings (DJANGO_SETTINGS_MODULE=demo.settings)"
    )
