"""A task for the real worker in test_worker_exit: it only counts, in the worker's memory."""

from timedify_ops.telemetry import measure


def count_once(name: str) -> str:
    measure.count(name, source="worker")
    return "counted"
