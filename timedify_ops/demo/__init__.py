"""The living demo's outside world: a stand-in for the Shopify app and for Shopify itself.

    content.py    shops, topics, webhook payloads and Fly-shaped log lines (shared with seed_demo)
    receiver.py   the demo app on 127.0.0.1:8765: answers forwarded webhooks (sometimes slow,
                  sometimes 500, rarely 404), its /health (sometimes failing briefly), and the
                  Admin API calls of the hourly token check
    simulator.py  Shopify and Fly's log shipper: signed webhooks to the ingress (with the odd
                  duplicate) and log batches to /logs/ingest

Started by `python3 scripts/dev.py demo` (`make demo`). Django-free, and never imported by the app:
nothing here runs in production.
"""
