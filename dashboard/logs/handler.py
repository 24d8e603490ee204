"""timedify-ops' own events into the log store, off the request path.

LOGGING attaches LogStoreHandler to the `timedify_ops.events` logger. `emit` only turns the
record into a row and appends it to an in-memory buffer; a background thread writes the
buffer with ingest.insert_rows every `flush_interval` seconds, or sooner once `batch_size`
rows wait. So a request that logs an event never waits for the database.

Processes: gunicorn workers and django-q2 workers are forked. The thread is started lazily by
the first record a process logs, and a forked child drops the rows it inherited (the parent
writes those), so every process writes only its own events. Rows are written at exit too:
logging.shutdown() calls flush() (atexit), and a multiprocessing finaliser covers django-q2's
worker processes, which leave through os._exit() without running atexit.

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
import time
import weakref
from collections import deque

from dashboard.logs import records
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
        self._write_lock = threading.Lock()
        self._reset()
        reference = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (handler := reference()) and handler._reset())

    def _reset(self) -> None:
        """Fresh state for this process: no inherited rows, no (dead) inherited thread."""
        self._pid = os.getpid()
        self._buffer: deque[records.LogRow] = deque()
        self._buffer_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.dropped = 0

    # ------------------------------------------------------------------ logging.Handler

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(_flushing, "active", False):
            return  # a record logged while writing (a database warning): never loop
        if os.getpid() != self._pid:
            self._reset()
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
        if self.flush_interval > 0:
            self._ensure_thread()
            if waiting >= self.batch_size:
                self._wake.set()

    def flush(self) -> None:
        """logging.shutdown() calls this at exit: write what is buffered (when the thread is on)."""
        if self.flush_interval > 0 and os.getpid() == self._pid:
            self.write_buffered()

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
        from django.db import connection

        from dashboard.logs.ingest import insert_rows

        # The thread owns its connection and keeps it fresh; a caller's connection (a test, the
        # exit flush) is left as it is: it may be inside the caller's transaction.
        own_connection = threading.current_thread() is self._thread
        _flushing.active = True
        try:
            for attempt in (1, 2):
                try:
                    if own_connection:
                        connection.close_if_unusable_or_obsolete()
                    return insert_rows(batch)
                except Exception as error:  # the events are best effort; the app goes on
                    if own_connection:
                        connection.close()
                    if attempt == 2:
                        self.dropped += len(batch)
                        console.warning("could not write %d event(s) to the log store: %s", len(batch), error)
            return 0
        finally:
            _flushing.active = False

    def _ensure_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._buffer_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="logstore-flush", daemon=True)
            self._thread.start()
        _register_exit_flush(self)

    def _run(self) -> None:
        from django.db import connection

        pid = os.getpid()
        try:
            while not self._stopped and os.getpid() == pid:
                self._wake.wait(self.flush_interval)
                self._wake.clear()
                try:
                    self.write_buffered()
                except Exception:  # keep the thread alive whatever happens
                    console.exception("log store flush failed")
                    time.sleep(self.flush_interval)
        finally:
            connection.close()

    def close(self) -> None:
        """Stop the thread after a last write (logging.shutdown() calls flush() first)."""
        self._stopped = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        super().close()


def _register_exit_flush(handler: LogStoreHandler) -> None:
    """Write the buffer when a multiprocessing child (a django-q2 worker) exits: those leave
    through os._exit(), which skips atexit and so logging.shutdown()."""
    from multiprocessing import util

    reference = weakref.ref(handler)

    def write():
        live = reference()
        if live is not None and os.getpid() == live._pid:
            live.write_buffered()

    util.Finalize(handler, write, exitpriority=10)


def _known_topics() -> tuple[str, ...]:
    try:
        from django.conf import settings

        return tuple(settings.WEBHOOK_TOPICS)
    except Exception:  # settings not ready: the default topics still work
        return DEFAULT_TOPICS


def store_handler() -> LogStoreHandler | None:
    """The handler LOGGING attached to timedify_ops.events, if any."""
    for handler in logging.getLogger("timedify_ops.events").handlers:
        if isinstance(handler, LogStoreHandler):
            return handler
    return None
