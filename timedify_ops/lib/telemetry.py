"""Per-process measurement without a database write on the request path.

A Recorder keeps per-minute histograms and counters in memory and hands them, in one batch,
to a flush callback, from the background flusher (timedify_ops.lib.flusher): every `interval`
seconds, and when the process ends (a django-q2 worker's os._exit() included). Each gunicorn
worker (and each django-q2 worker) records its own figures, and a forked child drops what it
inherited; the callback's upsert adds counts, so any number of processes sum correctly. The most
a crash can lose is what one process gathered since its last flush (`interval` seconds).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from timedify_ops.lib.flusher import BackgroundFlusher
from timedify_ops.lib.histogram import Histogram

logger = logging.getLogger(__name__)


@dataclass
class Batch:
    # (minute epoch seconds, series name, labels tuple) → Histogram
    histograms: dict[tuple[int, str, tuple], Histogram] = field(default_factory=dict)
    # (name, labels tuple) → increment
    counters: dict[tuple[str, tuple], float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.histograms or self.counters)


class Recorder:
    def __init__(self, flush: Callable[[Batch], None], interval: float = 5.0, clock=time.time):
        self._flush_callback = flush
        self._clock = clock
        self._lock = threading.Lock()
        self._batch = Batch()
        self.flusher = BackgroundFlusher(
            self.flush, interval=interval, name="telemetry-flush", after_fork=self._forget_inherited
        )

    @property
    def interval(self) -> float:
        return self.flusher.interval

    # -- recording (called on the hot path: memory only)

    def observe(self, series: str, value_ms: float, labels: tuple = (), at: float | None = None) -> None:
        minute = int((at if at is not None else self._clock()) // 60 * 60)
        key = (minute, series, labels)
        with self._lock:
            histogram = self._batch.histograms.get(key)
            if histogram is None:
                histogram = self._batch.histograms[key] = Histogram()
            histogram.observe(value_ms)
        self.flusher.ensure_running()

    def count(self, name: str, labels: tuple = (), value: float = 1) -> None:
        key = (name, labels)
        with self._lock:
            self._batch.counters[key] = self._batch.counters.get(key, 0) + value
        self.flusher.ensure_running()

    # -- flushing

    def flush(self) -> int:
        """Hand over what was gathered; on failure, put it back so the next flush retries."""
        with self._lock:
            batch, self._batch = self._batch, Batch()
        if not batch:
            return 0
        try:
            self._flush_callback(batch)
        except Exception:
            logger.exception("telemetry flush failed; keeping the batch for the next try")
            with self._lock:
                self._merge_back(batch)
            return 0
        return len(batch.histograms) + len(batch.counters)

    def _merge_back(self, batch: Batch) -> None:
        for key, histogram in batch.histograms.items():
            mine = self._batch.histograms.get(key)
            self._batch.histograms[key] = histogram if mine is None else mine.merge(histogram)
        for key, value in batch.counters.items():
            self._batch.counters[key] = self._batch.counters.get(key, 0) + value

    def _forget_inherited(self) -> None:
        """In a forked child: the parent flushes what it gathered; this process starts empty."""
        self._lock = threading.Lock()
        self._batch = Batch()

    def stop(self) -> None:
        """No more background flushes in this process; what is gathered is flushed now."""
        self.flusher.stop()
        self.flush()
