"""Database query telemetry for timedify-ops itself (the checklist's "Prisma telemetry").

Every query of every process goes through `time_query` (installed on each new connection):
its duration lands in the per-minute "db_query" histogram by kind (select, insert, update,
delete, other) and outcome, in memory; the telemetry recorder flushes it with everything else.
"""

from __future__ import annotations

import threading
import time

from django.db.backends.signals import connection_created

from timedify_ops.telemetry import measure

KINDS = ("select", "insert", "update", "delete")


def query_kind(sql: str) -> str:
    head = sql.lstrip()[:10].lower()
    for kind in KINDS:
        if head.startswith(kind):
            return kind
    if head.startswith("with"):
        return "select"
    return "other"


def time_query(execute, sql, params, many, context):
    # The flush thread's own upserts are not measured: they would keep a trickle of
    # telemetry about telemetry going forever.
    if threading.current_thread().name == "telemetry-flush":
        return execute(sql, params, many, context)
    kind = query_kind(sql)
    started = time.perf_counter()
    ok = "1"
    try:
        return execute(sql, params, many, context)
    except Exception:
        ok = "0"
        raise
    finally:
        measure.observe("db_query", (time.perf_counter() - started) * 1000, kind=kind, ok=ok)


def install(sender, connection, **kwargs):
    if time_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(time_query)


def connect() -> None:
    connection_created.connect(install, dispatch_uid="timedify-query-telemetry")
