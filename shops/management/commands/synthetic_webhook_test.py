"""Send one signed, synthetic webhook per configured topic and report what answered.

    manage.py synthetic_webhook_test --url https://timedify-ops.fly.dev
    manage.py synthetic_webhook_test --url https://app.example.com --topics app/uninstalled shop/redact
    manage.py synthetic_webhook_test --url http://127.0.0.1:8000 --path-style single --timeout 2

Posts to BASE_URL/webhooks/<topic> (the Shopify app template's paths) or, with
--path-style single, to BASE_URL/webhooks/shopify; so it checks this ingress or the app's own
endpoints after a deploy. Exit 0 when every answer is 2xx, 1 on any other answer or timeout.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from timedify_ops.lib import synthetic
from timedify_ops.lib.env import ConfigError, check_url


class Command(BaseCommand):
    help = "Send one signed synthetic webhook per configured topic to BASE_URL; exit 1 on any non-2xx or timeout."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="base URL, e.g. https://timedify-ops.fly.dev")
        parser.add_argument(
            "--topics",
            nargs="+",
            metavar="TOPIC",
            help="topics to send (default: WEBHOOK_TOPICS); commas work too",
        )
        parser.add_argument("--timeout", type=float, default=None, help="seconds per webhook (default 5)")
        parser.add_argument(
            "--path-style",
            choices=synthetic.PATH_STYLES,
            default="topic",
            help="topic: /webhooks/<topic> (default); single: /webhooks/shopify",
        )
        parser.add_argument("--shop", default=None, help="shop domain (default SYNTHETIC_SHOP_DOMAIN)")

    def handle(self, *args, url, topics=None, timeout=None, path_style="topic", shop=None, **options):
        try:
            check_url("--url", url)
        except ConfigError as error:
            raise CommandError(str(error)) from None
        topics = [t.strip() for item in (topics or settings.WEBHOOK_TOPICS) for t in item.split(",") if t.strip()]
        if not topics:
            raise CommandError("no topics to send (WEBHOOK_TOPICS is empty and --topics was not given)")
        timeout = timeout if timeout is not None else settings.SYNTHETIC_TIMEOUT_S
        if timeout <= 0:
            raise CommandError("--timeout must be positive")
        requests = [
            synthetic.build_request(
                topic,
                synthetic.url_for(url, topic, path_style),
                secret=settings.SHOPIFY_API_SECRET,
                shop=shop or settings.SYNTHETIC_SHOP_DOMAIN,
                api_version=settings.SHOPIFY_API_VERSION,
            )
            for topic in topics
        ]
        results = synthetic.send(requests, timeout_s=timeout)
        self.stdout.write(synthetic.format_table(results))
        failed = [result for result in results if not result.ok]
        for result in failed:
            detail = f" {result.error}" if result.status_code is not None and result.error else ""
            self.stderr.write(f"{result.topic}: {result.url} → {result.outcome}{detail}")
        if failed:
            self.stderr.write(f"{len(failed)} of {len(results)} synthetic webhook(s) failed")
            raise SystemExit(1)
        self.stdout.write(f"all {len(results)} synthetic webhook(s) answered 2xx")
