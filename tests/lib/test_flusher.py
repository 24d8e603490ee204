"""The one background flusher: a thread per process, woken early on demand, and a last flush when
the process ends, a multiprocessing child's os._exit() included."""

import multiprocessing
import os
import threading

from timedify_ops.lib.flusher import BackgroundFlusher


def test_the_thread_flushes_by_itself_and_wake_flushes_at_once():
    flushed = threading.Event()
    flusher = BackgroundFlusher(flushed.set, interval=0.05, name="test-flush")
    flusher.ensure_running()
    assert flushed.wait(5)
    flusher.stop()
    assert not flusher.thread.is_alive()

    woken = threading.Event()
    slow = BackgroundFlusher(woken.set, interval=3600, name="test-wake")
    slow.ensure_running()
    slow.wake()
    assert woken.wait(5)
    slow.stop()


def test_interval_zero_starts_no_thread():
    flusher = BackgroundFlusher(lambda: None, interval=0, name="test-off")
    flusher.ensure_running()
    assert flusher.thread is None


KEPT = []  # the child's flusher lives as long as its process, as a module's recorder does


def _count_in_a_child(path: str) -> None:
    """A multiprocessing child (as a django-q2 worker is): gathers, then returns; the process
    then leaves through os._exit(), which runs no atexit hook."""

    def flush():
        with open(path, "a") as handle:
            handle.write("flushed\n")

    flusher = BackgroundFlusher(flush, interval=3600, name="child-flush")
    flusher.ensure_running()
    KEPT.append(flusher)


def test_a_multiprocessing_child_flushes_once_more_when_it_ends(tmp_path):
    path = tmp_path / "flushes.txt"
    child = multiprocessing.get_context("fork").Process(target=_count_in_a_child, args=(str(path),))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    assert path.read_text() == "flushed\n"


def test_a_forked_child_forgets_what_it_inherited_and_runs_its_own_thread():
    forgotten = []
    flushed = threading.Event()
    flusher = BackgroundFlusher(flushed.set, interval=3600, name="parent-flush", after_fork=lambda: forgotten.append(1))
    flusher.ensure_running()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, never return into pytest
        try:
            inherited_thread = flusher.thread
            flusher.ensure_running()
            own = flusher.thread is not None and flusher.thread.is_alive()
            os.write(write_end, f"{forgotten},{inherited_thread},{own}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    report = os.read(read_end, 1000).decode()
    os.waitpid(pid, 0)
    assert report == "[1],None,True"
    assert forgotten == []  # the parent keeps its own
    flusher.stop()
