"""The demo's Shopify app: where timedify-ops forwards webhooks, probes health and checks tokens.

    python -m demo.receiver [--port 8765] [--ingest http://127.0.0.1:8000/logs/ingest]

- POST /webhooks (and /webhooks/…): checks the forwarded HMAC (with SHOPIFY_API_SECRET, when set),
  then answers like a real app on a real day: mostly 200 in ~80 ms, sometimes slow (now and then
  slower than the forwarder's 5 s timeout), sometimes 500, rarely 404; every few minutes a bad
  spell of 503s long enough to spend a retry budget, so new dead letters appear.
- GET /health: 200, except for a minute or two now and then (the `app` probe notices).
- POST /shopify/<shop>/admin/api/<version>/graphql.json and …/admin/oauth/access_token: the Admin
  API of the hourly token check (SHOPIFY_ADMIN_BASE_URL points here); one shop's token is revoked.
- Its own access log goes to /logs/ingest as Fly-shaped records (with LOG_INGEST_TOKEN), as the
  Fly log shipper would send the app's stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from demo import content
from demo.shipper import LogShipper
from timedify_ops.lib import signing

REVOKED_SHOPS = frozenset({"harbor-hound.myshopify.com"})


@dataclass
class Behaviour:
    """How often the app misbehaves (shares of requests, and seconds between bad spells)."""

    slow_share: float = 0.04  # answers in 1–3 s
    timeout_share: float = 0.004  # answers after the forwarder gave up (6 s)
    error_share: float = 0.03  # 500
    gone_share: float = 0.006  # 404: a shop the app no longer knows (permanent: a dead letter at once)
    spell_every_s: float = 420  # on average, a bad spell of 503s this often …
    spell_seconds: tuple[float, float] = (12, 25)  # … lasting this long (a retry budget is ~5 s)
    health_blip_every_s: float = 900  # the health endpoint fails this often on average …
    health_blip_seconds: tuple[float, float] = (50, 150)  # … for this long (2 failed checks = down)

    @classmethod
    def calm(cls) -> Behaviour:
        """Never misbehaves (tests that count deliveries)."""
        return cls(0, 0, 0, 0, 0, (0, 0), 0, (0, 0))


@dataclass
class Trouble:
    """Time windows of the current bad spell and health blip, drawn as time goes by."""

    behaviour: Behaviour
    rng: random.Random
    spell_until: float = 0.0
    next_spell: float = 0.0
    blip_until: float = 0.0
    next_blip: float = 0.0

    def __post_init__(self):
        now = time.monotonic()
        self.next_spell = now + self._gap(self.behaviour.spell_every_s)
        self.next_blip = now + self._gap(self.behaviour.health_blip_every_s)

    def _gap(self, mean: float) -> float:
        return self.rng.expovariate(1 / mean) if mean > 0 else float("inf")

    def in_spell(self, now: float) -> bool:
        if now >= self.next_spell:
            self.spell_until = self.next_spell + self.rng.uniform(*self.behaviour.spell_seconds)
            self.next_spell = self.spell_until + self._gap(self.behaviour.spell_every_s)
        return now < self.spell_until

    def in_blip(self, now: float) -> bool:
        if now >= self.next_blip:
            self.blip_until = self.next_blip + self.rng.uniform(*self.behaviour.health_blip_seconds)
            self.next_blip = self.blip_until + self._gap(self.behaviour.health_blip_every_s)
        return now < self.blip_until


@dataclass
class DemoApp:
    """State shared by the request threads."""

    secret: str | None = None
    behaviour: Behaviour = field(default_factory=Behaviour)
    shipper: LogShipper | None = None
    seed: int | None = None
    counts: Counter = field(default_factory=Counter)
    webhook_ids: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.lock = threading.Lock()
        self.trouble = Trouble(self.behaviour, self.rng)
        self.machine = self.rng.choice(content.APP_MACHINES)

    def roll(self) -> float:
        with self.lock:
            return self.rng.random()

    def count(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1

    def log(self, message: str, level: str = "info") -> None:
        if self.shipper is not None:
            self.shipper.add(content.fly_record(time.time_ns(), message, self.machine, level=level))

    # ------------------------------------------------------------------ webhooks

    def webhook(self, headers, body: bytes) -> tuple[int, dict, float]:
        """(status, JSON answer, seconds to wait before answering)."""
        if self.secret and not signing.verify(body, headers.get("X-Shopify-Hmac-Sha256"), [self.secret]):
            return 401, {"error": "HMAC validation failed"}, 0.0
        topic = headers.get("X-Shopify-Topic", "")
        shop = headers.get("X-Shopify-Shop-Domain", "")
        with self.lock:
            spell = self.trouble.in_spell(time.monotonic())
        b = self.behaviour
        roll = self.roll()
        if spell:
            return 503, {"error": "upstream unavailable"}, self.roll() * 0.05
        if roll < b.gone_share:
            return 404, {"error": "Shop not found"}, 0.02
        if roll < b.gone_share + b.error_share:
            return 500, {"error": f"{topic} handler failed"}, 0.04
        if roll < b.gone_share + b.error_share + b.timeout_share:
            return 200, {"ok": True}, 6.0
        if roll < b.gone_share + b.error_share + b.timeout_share + b.slow_share:
            return 200, {"ok": True}, 1 + 2 * self.roll()
        with self.lock:
            return 200, {"ok": True}, self.rng.lognormvariate(-2.5, 0.5) if shop else 0.08

    def health(self) -> tuple[int, dict]:
        with self.lock:
            blip = self.trouble.in_blip(time.monotonic())
        if blip:
            return 503, {"status": "fail", "database": "unreachable"}
        return 200, {"status": "ok"}

    # ------------------------------------------------------------------ Admin API

    def admin(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        parts = path.strip("/").split("/")  # shopify/<shop>/admin/…
        shop = parts[1] if len(parts) > 2 else ""
        if path.endswith("/admin/oauth/access_token"):
            return 200, {
                "access_token": f"shpat_{self.rng.getrandbits(128):032x}",
                "expires_in": 3600,
                "refresh_token": f"shprt_{self.rng.getrandbits(128):032x}",
                "refresh_token_expires_in": 90 * 24 * 3600,
                "scope": content.SCOPES,
            }
        if path.endswith("/graphql.json"):
            if shop in REVOKED_SHOPS or not headers.get("X-Shopify-Access-Token"):
                return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
            return 200, {
                "data": {"shop": {"name": content.shop_title(shop)}},
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 1,
                        "actualQueryCost": 1,
                        "throttleStatus": {
                            "maximumAvailable": 2000.0,
                            "currentlyAvailable": 1999,
                            "restoreRate": 100.0,
                        },
                    }
                },
            }
        return 404, {"errors": "Not Found"}


def make_handler(app: DemoApp):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "timedify-demo-app/1"

        def log_message(self, *args):  # the access log goes to the log store instead
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _answer(self, status: int, data: dict) -> None:
            payload = json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the forwarder gave up waiting (its 5 s timeout)

        def do_GET(self):
            if self.path.split("?")[0] == "/health":
                started = time.perf_counter()
                status, data = app.health()
                app.count(f"health_{status}")
                app.log(content.health_line(status, (time.perf_counter() - started) * 1000 + 1))
                return self._answer(status, data)
            return self._answer(404, {"error": "not found"})

        def do_POST(self):
            body = self._body()
            path = self.path.split("?")[0]
            if path.startswith("/shopify/"):
                status, data = app.admin(path, self.headers, body)
                app.count(f"admin_{status}")
                return self._answer(status, data)
            if not path.startswith("/webhooks"):
                return self._answer(404, {"error": "not found"})
            started = time.perf_counter()
            status, data, wait = app.webhook(self.headers, body)
            time.sleep(wait)
            topic = self.headers.get("X-Shopify-Topic", "")
            shop = self.headers.get("X-Shopify-Shop-Domain", "")
            webhook_id = self.headers.get("X-Shopify-Webhook-Id", "")
            if status == 200:
                app.log(content.webhook_processing_line(topic, shop, webhook_id))
                with app.lock:
                    app.webhook_ids.append(webhook_id)
            else:
                level, message = content.webhook_failure_line(topic, shop, status)
                app.log(message, level)
            app.log(content.webhook_request_line(status, (time.perf_counter() - started) * 1000))
            app.count(f"webhook_{status}")
            return self._answer(status, data)

    return Handler


class Receiver:
    """The demo app's server, in a background thread (`start`/`stop`), or in the foreground (`main`)."""

    def __init__(self, app: DemoApp, host: str = "127.0.0.1", port: int = 8765):
        self.app = app
        self.server = ThreadingHTTPServer((host, port), make_handler(app))
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Receiver:
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-receiver", daemon=True)
        self.thread.start()
        if self.app.shipper is not None:
            self.app.shipper.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.app.shipper is not None:
            self.app.shipper.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--ingest", help="POST the app's log lines here (LOG_INGEST_TOKEN from the environment)")
    parser.add_argument("--calm", action="store_true", help="never misbehave")
    parser.add_argument("--seed", type=int)
    options = parser.parse_args(argv)
    token = os.environ.get("LOG_INGEST_TOKEN")
    shipper = LogShipper(options.ingest, token) if options.ingest and token else None
    app = DemoApp(
        secret=os.environ.get("SHOPIFY_API_SECRET") or None,
        behaviour=Behaviour.calm() if options.calm else Behaviour(),
        shipper=shipper,
        seed=options.seed,
    )
    receiver = Receiver(app, options.host, options.port).start()
    print(f"demo app: listening on {receiver.url} (webhooks, /health, Admin API)", flush=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    while not stopped.wait(60):
        answered = ", ".join(f"{key} {value}" for key, value in sorted(app.counts.items()))
        print(f"demo app: {answered or 'no requests yet'}", flush=True)
    receiver.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
