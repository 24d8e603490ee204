"""A small stand-in for the Fly log shipper: batches Fly-shaped records and POSTs them to /logs/ingest."""

from __future__ import annotations

import threading
from collections import deque

import httpx


class LogShipper:
    """Records go in with `add`; a thread POSTs them as a JSON array every `interval` seconds.

    While timedify-ops is not answering (still starting), records wait; beyond `capacity` the
    oldest are dropped, as a real shipper's buffer would.
    """

    def __init__(self, url: str, token: str, *, interval: float = 2.0, capacity: int = 5000):
        self.url = url
        self.token = token
        self.interval = interval
        self.buffer: deque[dict] = deque(maxlen=capacity)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.shipped = 0
        self.failed_posts = 0

    def add(self, record: dict) -> None:
        with self.lock:
            self.buffer.append(record)

    def start(self) -> LogShipper:
        self.thread = threading.Thread(target=self._run, name="demo-log-shipper", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.flush()

    def flush(self) -> int:
        with self.lock:
            batch = list(self.buffer)
            self.buffer.clear()
        if not batch:
            return 0
        try:
            response = httpx.post(self.url, json=batch, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        except httpx.HTTPError:
            response = None
        if response is not None and 400 <= response.status_code < 500 and response.status_code != 429:
            self.failed_posts += 1  # refused (a wrong token?): trying again will not help
            return 0
        if response is None or response.status_code != 200:
            self.failed_posts += 1
            with self.lock:  # put them back in front, to try again
                self.buffer.extendleft(reversed(batch))
            return 0
        self.shipped += len(batch)
        return len(batch)
