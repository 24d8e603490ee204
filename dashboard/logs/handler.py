"""timedify-ops' own events into the log store, off the request path.

LOGGING attaches LogStoreHandler to the `timedify_ops.events` logger. `emit` only turns the
record into a row and appends it to an in-memory buffer; the background flusher
(timedify_ops.lib.flusher) writes the buffer with ingest.insert_rows every `flush_interval`
seconds, or sooner once `batch_size` rows wait. So a request that logs an event never waits for
the database.

Processes: gunicorn workers and django-q2 workers are forked. The flusher's thread is started
lazily by the first record a process logs, and a forked child drops the rows it inherited (the
parent writes those), so every process writes only its own events. Rows are written when the
process ends too, django-q2's workers (which leave through os._exit()) included.

The buffer is bounded (`capacity`): when the database is unreachable, the oldest rows are
dropped and counted rather than memory growing without end. A failed write is retried once
with a fresh connection and then dropped with a warning on the console logger.

With flush_interval=0 (the test settings) no thread runs and nothing is written behind the
caller's back: call write_buffered() to write.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import deque

from django.conf import settings
from django.db import connection

from dashboard.logs import ingest, records
from timedify_ops.lib.flusher import BackgroundFlusher
from timedify_ops.lib.topics import DEFAULT_TOPICS

APP_NAME = "timedify-ops"
PROVIDER = "events"

# The attributes every LogRecord has; anything else came in through `extra=` and is kept.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

# Problems of the handler itself go to the console, never back into the store.
console = logging.getLogger("timedify_ops.logstore")
_flushing = threading.local()


def _json_safe(value, depth: int = 0):
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if depth < 5 and isinstance(value, dict):
        return {str(key): _json_safe(item, depth + 1) for key, item in value.items()}
    if depth < 5 and isinstance(value, list | tuple | set):
        return [_json_safe(item, depth + 1) for item in value]
    return str(value)


class LogStoreHandler(logging.Handler):
    def __init__(
        self,
        level: int | str = logging.NOTSET,
        *,
        flush_interval: float = 1.0,
        batch_size: int = 200,
        capacity: int = 10_000,
        app: str = APP_NAME,
    ):
        super().__init__(level)
        self.flush_interval = float(flush_interval)
        self.batch_size = batch_size
        self.capacity = capacity
        self.app = app
        self.instance = os.environ.get("FLY_MACHINE_ID") or os.environ.get("FLY_ALLOC_ID", "")
        self.region = os.environ.get("FLY_REGION", "")
        self.host = socket.gethostname()
        self._reset()
        self.flusher = BackgroundFlusher(
            self.write_buffered,
            interval=self.flush_interval,
            name="logstore-flush",
            after_fork=self._reset,
            # The thread owns its database connection (looked up in the thread) and closes it when it stops.
            thread_done=lambda: connection.close(),
        )

    def _reset(self) -> None:
        """Fresh state for this process: no inherited rows (the parent writes those)."""
        self._buffer: deque[records.LogRow] = deque()
        self._buffer_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.dropped = 0

    # ------------------------------------------------------------------ logging.Handler

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(_flushing, "active", False):
            return  # a record logged while writing (a database warning): never loop
        try:
            row = self.row_for(record)
        except Exception:  # logging must never raise into the caller
            self.handleError(record)
            return
        with self._buffer_lock:
            if len(self._buffer) >= self.capacity:
                self._buffer.popleft()
                self.dropped += 1
            self._buffer.append(row)
            waiting = len(self._buffer)
        self.flusher.ensure_running()
        if waiting >= self.batch_size:
            self.flusher.wake()

    def flush(self) -> None:
        """logging.shutdown() calls this at exit: write what is buffered (when the thread is on)."""
        if self.flush_interval > 0:
            self.flusher.flush_here()

    # ------------------------------------------------------------------ rows

    def row_for(self, record: logging.LogRecord) -> records.LogRow:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
        message = records.clean_text(message, records.MAX_MESSAGE_CHARS)
        extra = {"logger": record.name, "process": record.process, "thread": record.threadName}
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                extra[key] = _json_safe(value)
        return records.LogRow(
            timestamp_ns=int(record.created * 1_000_000_000),
            message=message,
            app=self.app,
            instance=records.clean_text(self.instance, records.MAX_LENGTHS["instance"]),
            region=records.clean_text(self.region, records.MAX_LENGTHS["region"]),
            level=records.normalise_level(record.levelno) or records.INFO,
            provider=PROVIDER,
            host=records.clean_text(self.host, records.MAX_LENGTHS["host"]),
            topic=records.derive_topic(message, _known_topics()),
            extra=records.clean_json(extra),
        )

    @property
    def waiting(self) -> int:
        return len(self._buffer)

    def discard_buffered(self) -> None:
        with self._buffer_lock:
            self._buffer.clear()

    # ------------------------------------------------------------------ writing

    def write_buffered(self) -> int:
        """Write every buffered row now, in batches; returns how many were written."""
        written = 0
        with self._write_lock:
            while True:
                with self._buffer_lock:
                    batch = [self._buffer.popleft() for _ in range(min(len(self._buffer), 1000))]
                if not batch:
                    return written
                written += self._write(batch)

    def _write(self, batch: list[records.LogRow]) -> int:
        # The thread owns its connection and keeps it fresh; a caller's connection (a test, the
        # exit flush) is left as it is: it may be inside the caller's transaction.
        own_connection = threading.current_thread() is self.flusher.thread
        _flushing.active = True
        try:
            for attempt in (1, 2):
                try:
                    if own_connection:
                        connection.close_if_unusable_or_obsolete()
                    return ingest.insert_rows(batch)
                except Exception as error:  # the events are best effort; the app goes on
                    if own_connection:
                        connection.close()
                    if attempt == 2:
                        self.dropped += len(batch)
                        console.warning("could not write %d event(s) to the log store: %s", len(batch), error)
            return 0
        finally:
            _flushing.active = False

    def close(self) -> None:
        """Stop the thread after a last write (logging.shutdown() calls flush() first)."""
        self.flusher.stop()
        super().close()


def _known_topics() -> tuple[str, ...]:
    try:
        return tuple(settings.WEBHOOK_TOPICS)
    except Exception:  # settings not ready: the default topics still work
        return DEFAULT_TOPICS


def store_handler() -> LogStoreHandler | None:
    """The handler LOGGING attached to timedify_ops.events, if any."""
    for handler in logging.getLogger("timedify_ops.events").handlers:
        if isinstance(handler, LogStoreHandler):
            return handler
    return None
