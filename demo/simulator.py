"""The demo's Shopify and Fly: signed webhooks to the ingress, log batches to /logs/ingest.

    SHOPIFY_API_SECRET=… LOG_INGEST_TOKEN=… python -m demo.simulator [--ingress URL] [--rate 0.25]

- Webhooks arrive at random (a Poisson stream of `--rate` a second) from the demo's shops, for
  the six topics, signed with SHOPIFY_API_SECRET exactly as Shopify signs them.
- Now and then Shopify sends the same webhook again (same Webhook-Id: a duplicate), a shop
  uninstalls the app (app/uninstalled, then shop/redact a few minutes later: Shopify waits 48
  hours, a demo cannot), and a request arrives unsigned (a scanner: 401).
- The app's background noise (queries, page views, its database's checkpoints) goes to
  /logs/ingest with LOG_INGEST_TOKEN, as the Fly log shipper would send it.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from demo import content
from demo.shipper import LogShipper


@dataclass
class Request:
    path: str
    body: bytes
    headers: dict[str, str]
    webhook_id: str


class Simulator:
    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        log_token: str | None = None,
        rate: float = 0.25,
        duplicate_share: float = 0.03,
        churn_share: float = 0.01,
        unsigned_share: float = 0.005,
        redact_after_s: tuple[float, float] = (120, 300),
        seed: int | None = None,
        log_interval: float = 3.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.rate = rate
        self.duplicate_share = duplicate_share
        self.churn_share = churn_share
        self.unsigned_share = unsigned_share
        self.redact_after_s = redact_after_s
        self.rng = random.Random(seed)
        self.client = httpx.Client(timeout=10)
        self.shipper = LogShipper(f"{self.base_url}/logs/ingest", log_token) if log_token else None
        self.log_interval = log_interval
        self.counts: Counter = Counter()
        self.accepted_ids: list[str] = []
        self.later: list[tuple[float, Request]] = []  # duplicates and shop/redacts waiting for their time

    # ------------------------------------------------------------------ webhooks

    def request(self, topic: str, shop: str, *, webhook_id: str | None = None) -> Request:
        now = datetime.now(UTC)
        body = content.body_bytes(content.payload(topic, shop, self.rng, now))
        webhook_id = webhook_id or content.new_uuid(self.rng)
        headers = content.shopify_headers(
            topic,
            shop,
            webhook_id=webhook_id,
            event_id=content.new_uuid(self.rng),
            triggered_at=now,
            body=body,
            secret=self.secret,
        )
        path = f"/webhooks/{topic}" if self.rng.random() < 0.8 else "/webhooks/shopify"
        return Request(path, body, headers, webhook_id)

    def post(self, request: Request) -> int | None:
        try:
            response = self.client.post(self.base_url + request.path, content=request.body, headers=request.headers)
        except httpx.HTTPError:
            self.counts["unreachable"] += 1
            return None
        status = response.status_code
        if status == 200:
            outcome = response.json().get("status", "accepted")
            self.counts[outcome] += 1
            if outcome == "accepted":
                self.accepted_ids.append(request.webhook_id)
        else:
            self.counts[f"http_{status}"] += 1
        return status

    def next_request(self) -> Request:
        roll = self.rng.random()
        if roll < self.churn_share:
            shop = content.churned_domain(self.rng)
            due = time.monotonic() + self.rng.uniform(*self.redact_after_s)
            self.later.append((due, self.request("shop/redact", shop)))
            return self.request("app/uninstalled", shop)
        return self.request(content.pick_topic(self.rng), content.pick_shop(self.rng).domain)

    def step(self) -> None:
        """Send one new webhook (maybe again later), and whatever is due from before."""
        now = time.monotonic()
        due = [item for item in self.later if item[0] <= now]
        self.later = [item for item in self.later if item[0] > now]
        for _, request in due:
            self.post(request)
        if self.rng.random() < self.unsigned_share:
            request = self.request(content.pick_topic(self.rng), content.pick_shop(self.rng).domain)
            request.headers["X-Shopify-Hmac-Sha256"] = "bm90IGEgc2lnbmF0dXJl"
            self.post(request)
            return
        request = self.next_request()
        status = self.post(request)
        if status == 200 and self.rng.random() < self.duplicate_share:
            # Shopify did not see our answer in time and sends the very same webhook again.
            self.later.append((time.monotonic() + self.rng.uniform(0.5, 3), request))

    # ------------------------------------------------------------------ logs

    def noise(self) -> None:
        if self.shipper is None:
            return
        for _ in range(self.rng.randint(0, 3)):
            machine, level, provider, message = content.background_line(self.rng)
            self.shipper.add(content.fly_record(time.time_ns(), message, machine, level=level, provider=provider))

    # ------------------------------------------------------------------ loop

    def run(self, stop: threading.Event, *, report_every: float | None = None) -> None:
        if self.shipper is not None:
            self.shipper.start()
        next_webhook = time.monotonic()
        next_noise = time.monotonic()
        next_report = time.monotonic() + (report_every or 0)
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_webhook:
                    self.step()
                    next_webhook = now + self.rng.expovariate(self.rate)
                if now >= next_noise:
                    self.noise()
                    next_noise = now + self.log_interval
                if report_every and now >= next_report:
                    print(f"simulator: {self.summary()}", flush=True)
                    next_report = now + report_every
                stop.wait(max(0.01, min(next_webhook, next_noise) - time.monotonic()))
        finally:
            if self.shipper is not None:
                self.shipper.stop()
            self.client.close()

    def summary(self) -> str:
        parts = [f"{key} {value}" for key, value in sorted(self.counts.items())]
        if self.shipper is not None:
            parts.append(f"log lines shipped {self.shipper.shipped}")
        return ", ".join(parts) or "nothing sent yet"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ingress", default="http://127.0.0.1:8000", help="timedify-ops' base URL")
    parser.add_argument("--rate", type=float, default=0.25, help="webhooks a second, on average (default 0.25)")
    parser.add_argument("--seed", type=int)
    options = parser.parse_args(argv)
    secret = os.environ.get("SHOPIFY_API_SECRET")
    if not secret:
        parser.error("SHOPIFY_API_SECRET must be set (the webhooks are signed with it)")
    simulator = Simulator(
        options.ingress, secret, log_token=os.environ.get("LOG_INGEST_TOKEN"), rate=options.rate, seed=options.seed
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"simulator: sending ~{options.rate:g} signed webhooks a second to {simulator.base_url}", flush=True)
    simulator.run(stop, report_every=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
