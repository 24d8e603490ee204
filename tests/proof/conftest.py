"""Fixtures for the load and fault proofs: a fake Shopify app that counts what it receives, a
signed-webhook sender, and a django-q2 cluster that can be killed with SIGKILL."""

from __future__ import annotations

import collections
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.live import TEST_SECRET, qcluster, signed_webhook, subprocess_env
from timedify_ops.lib import signing


def is_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


requires_postgresql = pytest.mark.skipif(
    not is_postgresql(),
    reason="needs PostgreSQL: the fault is a database server's (SQLite has no server or connections to cut)",
)


# --------------------------------------------------------------------------- the app


@dataclass
class Received:
    webhook_id: str
    status: int
    signed: bool
    attempt: str
    replay: bool


@dataclass
class FakeApp:
    """The Shopify app timedify-ops forwards to: a threaded HTTP server on localhost.

    - `fail_ids`: webhook ids always answered 500 (they end dead-lettered);
    - `fail_rate`: the share of other requests answered 500 (retried, then delivered);
    - `slow_rate`/`slow_s`: the share of requests that wait `slow_s` before answering;
    - `hold`: a predicate; matching requests wait until `release()` (to catch them in flight);
    - `down()`/`up()`: close the listening socket (connection refused) and bind the same port again.

    Every answer is recorded, with whether the HMAC was valid: `ok_counts()` counts the 2xx
    per Webhook-Id (what "delivered twice" means to the app). Each request gets its own
    connection (HTTP/1.0), so `down()` leaves no kept-alive connection serving behind it.
    """

    fail_ids: set[str] = field(default_factory=set)
    fail_rate: float = 0.0
    slow_rate: float = 0.0
    slow_s: float = 0.0
    hold: Callable[[str], bool] | None = None
    seed: int = 10
    received: list[Received] = field(default_factory=list)
    held: list[str] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._random = random.Random(self.seed)
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks"

    def up(self) -> None:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                app._answer(self, body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def release(self) -> None:
        self._released.set()

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = handler.headers
        webhook_id = headers.get("X-Shopify-Webhook-Id") or headers.get("Shopify-Webhook-Id") or ""
        signature = headers.get("X-Shopify-Hmac-Sha256") or headers.get("Shopify-Hmac-Sha256")
        with self._lock:
            slow = self._random.random() < self.slow_rate
            flaky = self._random.random() < self.fail_rate
        if self.hold is not None and self.hold(webhook_id):
            with self._lock:
                self.held.append(webhook_id)
            self._released.wait(timeout=60)
        if slow:
            time.sleep(self.slow_s)
        status = 500 if webhook_id in self.fail_ids or flaky else 200
        with self._lock:
            # Recorded before answering: a sender killed meanwhile never reads the answer, but
            # the app has processed the webhook all the same.
            self.received.append(
                Received(
                    webhook_id=webhook_id,
                    status=status,
                    signed=signing.verify(body, signature, [TEST_SECRET]),
                    attempt=headers.get("X-Timedify-Attempt", ""),
                    replay="X-Timedify-Replay" in headers,
                )
            )
        payload = b"ok" if status == 200 else b"app error"
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the sender is gone (killed worker, timeout)

    def ok_counts(self) -> collections.Counter:
        with self._lock:
            return collections.Counter(r.webhook_id for r in self.received if 200 <= r.status <= 299)

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)


@pytest.fixture
def fake_app() -> Iterator[FakeApp]:
    app = FakeApp()
    app.up()
    yield app
    app.release()
    app.down()


# --------------------------------------------------------------------------- processes


def proof_env(app: FakeApp, **overrides: str) -> dict[str, str]:
    """A subprocess environment with a fast retry budget: 10 ms steps, 0.5 s per attempt, so a
    whole retry run takes at most about 3 s, and the shortest lease that allows (8 s)."""
    values = {
        "WEBHOOK_TARGET_URL": app.url,
        "DELIVERY_RETRY_BASE_MS": "10",
        "DELIVERY_RETRY_AFTER_CAP_S": "0.05",
        "DELIVERY_TIMEOUT_S": "0.5",
        "DELIVERY_CONNECT_TIMEOUT_S": "0.5",
        "DELIVERY_LEASE_SECONDS": "8",
        "Q_WORKERS": "2",
        "Q_LOG_LEVEL": "ERROR",
    }
    values.update(overrides)
    return subprocess_env(**values)


# The killable cluster and the signed webhooks are tests/live.py's; the old names stay for these tests.
killable_qcluster = qcluster


# --------------------------------------------------------------------------- sending


@dataclass
class Answer:
    webhook_id: str
    status: int | None  # None: no answer (connection refused, timeout)
    outcome: str = ""  # "accepted" / "duplicate" for a 200


def post_signed(client: httpx.Client, base: str, webhook_id: str, n: int = 0) -> Answer:
    body, headers = signed_webhook(webhook_id, n=n)
    try:
        response = client.post(f"{base}/webhooks/shopify", content=body, headers=headers)
    except httpx.HTTPError:
        return Answer(webhook_id, None)
    outcome = response.json().get("status", "") if response.status_code == 200 else ""
    return Answer(webhook_id, response.status_code, outcome)


def post_all(base: str, jobs: Iterable[tuple[str, threading.Barrier | None]], *, threads: int = 16) -> list[Answer]:
    """POST each (webhook id, barrier) concurrently from `threads` threads; two jobs sharing a
    barrier leave it together, so a duplicate pair really arrives at the same moment."""
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    with httpx.Client(timeout=30, limits=limits) as client, ThreadPoolExecutor(max_workers=threads) as pool:

        def one(job):
            number, (webhook_id, barrier) = job
            if barrier is not None:
                barrier.wait(timeout=30)
            return post_signed(client, base, webhook_id, number)

        return list(pool.map(one, enumerate(jobs)))


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"
