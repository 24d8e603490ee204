"""The one background flusher: writes what a process gathers in memory, off the hot path.

Used by the telemetry recorder (timedify_ops.lib.telemetry.Recorder) and the log-store handler
(dashboard.logs.handler.LogStoreHandler). Per process:

1. A daemon thread calls `flush` every `interval` seconds, or at once after `wake()`. It starts
   with the first `ensure_running()` of the process (interval 0: never; writes then happen only
   when the owner flushes by hand, as in tests).
2. A forked child (gunicorn and django-q2 start their workers so) gets a thread of its own, and
   `after_fork` runs in it first: the owner drops what it inherited, which the parent writes.
3. When the process ends, `flush` runs once more: at exit (atexit), and from multiprocessing's
   exit hooks, because django-q2's workers leave through os._exit(), which skips atexit.
So the most a crash can lose is one interval of one process's data.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from multiprocessing import util

logger = logging.getLogger(__name__)


class BackgroundFlusher:
    def __init__(
        self,
        flush: Callable[[], object],
        *,
        interval: float,
        name: str,
        after_fork: Callable[[], None] | None = None,
        thread_done: Callable[[], None] | None = None,
    ):
        self._flush = flush
        self.interval = float(interval)
        self.name = name
        self._after_fork = after_fork
        self._thread_done = thread_done  # e.g. close the thread's database connection
        self._reset()
        reference = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (flusher := reference()) and flusher._forked())

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._exit_hooked = False
        self.thread: threading.Thread | None = None

    def _forked(self) -> None:
        self._reset()  # the parent's thread does not exist in the child
        if self._after_fork is not None:
            self._after_fork()

    # ------------------------------------------------------------------ the thread

    def ensure_running(self) -> None:
        """Start this process's thread unless it runs (cheap when it does: the hot path calls this)."""
        thread = self.thread
        if (thread is not None and thread.is_alive()) or self.interval <= 0 or self._stopped:
            return
        with self._lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self.thread.start()
            if not self._exit_hooked:
                self._exit_hooked = True
                _flush_at_exit(self)

    def wake(self) -> None:
        """Flush now rather than at the end of the interval (the owner has a full batch)."""
        self._wake.set()

    def _run(self) -> None:
        pid = os.getpid()
        try:
            while not self._stopped and self.interval > 0 and os.getpid() == pid:
                self._wake.wait(self.interval)
                self._wake.clear()
                if self._stopped:
                    break
                try:
                    self._flush()
                except Exception:  # keep the thread alive whatever happens
                    logger.exception("%s: flush failed", self.name)
                    time.sleep(self.interval)
        finally:
            if self._thread_done is not None:
                self._thread_done()

    def stop(self) -> None:
        """Stop the thread for good (in this process); what is left is the owner's to flush."""
        self._stopped = True
        self._wake.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def flush_here(self) -> None:
        """Flush in the calling thread, if this process owns the flusher."""
        if os.getpid() == self._pid:
            self._flush()


def _flush_at_exit(flusher: BackgroundFlusher) -> None:
    reference = weakref.ref(flusher)

    def last_flush() -> None:
        live = reference()
        if live is None:
            return
        try:
            live.flush_here()
        except Exception:  # the process is ending: say so, never raise from an exit hook
            logger.exception("%s: the last flush failed", live.name)

    atexit.register(last_flush)
    util.Finalize(flusher, last_flush, exitpriority=10)
