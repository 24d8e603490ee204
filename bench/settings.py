"""Benchmark settings: the test settings (test secrets, no HTTPS redirect) plus a trivial
view to compare the ingress with, served by the same gunicorn in the same run."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
