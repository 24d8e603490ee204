"""Helpers shared by the benchmarks: a throwaway PostgreSQL database, a gunicorn, a load generator."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SECRET = "shpss_test_current_secret"  # SHOPIFY_API_SECRET in tests/settings.py (bench/settings.py uses it)
_counter = itertools.count()


def webhook() -> tuple[bytes, dict]:
    """A signed webhook with a unique id, about 450 bytes of JSON, as the load generators send it."""
    from timedify_ops.lib.signing import sign

    webhook_id = f"bench-{uuid.uuid4()}"
    body = json.dumps({"id": next(_counter), "domain": "bench.myshopify.com", "note": "x" * 400}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "customers/data_request",
        "X-Shopify-Shop-Domain": "bench.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": webhook_id,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Hmac-Sha256": sign(body, SECRET),
    }


PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs, {mem_gb:.0f} GiB RAM, {platform.python_implementation()} {platform.python_version()}"
    )


@contextlib.contextmanager
def throwaway_database(name: str):
    """Create a fresh PostgreSQL database, migrate it, drop it afterwards.

    BENCH_DB_SUFFIX (set by bench/run_all.py) makes the name unique, so two runs on one server
    never drop each other's database."""
    import psycopg

    name += os.environ.get("BENCH_DB_SUFFIX", "")

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    env = bench_env(url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    try:
        yield url
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="bench.settings", DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    env["TELEMETRY_FLUSH_SECONDS"] = "5"  # as in production: the flush thread runs
    env.update(extra)
    return env


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int, port: int = 8931):
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "timedify_ops.wsgi", "--config", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", "/dev/null",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/login/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("gunicorn did not start")
        time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1)]

    def line(self) -> str:
        return (
            f"{self.rate:8.0f} req/s  p50 {self.pct(50):6.1f} ms  p95 {self.pct(95):6.1f} ms  "
            f"p99 {self.pct(99):6.1f} ms  errors {self.errors}"
        )


async def _closed_loop(url, make_request, concurrency: int, seconds: float) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker():
            nonlocal errors
            while time.perf_counter() < stop_at:
                content, headers = make_request()
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=content, headers=headers)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += 0 if ok else 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return LoadResult(len(latencies), errors, elapsed, latencies)


async def _open_loop(url, make_request, rate: float, seconds: float, max_in_flight: int = 256) -> LoadResult:
    """Requests start on a fixed schedule whether or not earlier ones finished (no coordinated
    omission): latency is measured from the scheduled start."""
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        began = time.perf_counter()

        async def one(scheduled: float):
            nonlocal errors
            content, headers = make_request()
            try:
                response = await client.post(url, content=content, headers=headers)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - scheduled) * 1000)
            errors += 0 if ok else 1

        tasks = []
        for n in range(total):
            scheduled = began + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return LoadResult(len(latencies), errors, elapsed, latencies)


def closed_loop(url, make_request, concurrency: int, seconds: float) -> LoadResult:
    return asyncio.run(_closed_loop(url, make_request, concurrency, seconds))


def open_loop(url, make_request, rate: float, seconds: float) -> LoadResult:
    return asyncio.run(_open_loop(url, make_request, rate, seconds))


def median(values):
    return statistics.median(values)
