"""The demo's stand-ins for Shopify and the app are never part of the running product."""

import subprocess
import sys

from tests.live import ROOT, subprocess_env

LOAD_THE_APP = """
import sys
from timedify_ops.wsgi import application  # django.setup(), every app's ready()
from django.urls import get_resolver
get_resolver().url_patterns  # every view module
import timedify_ops.schedules
print(sorted(name for name in sys.modules if name.startswith("timedify_ops.demo.")))
"""


def test_loading_the_app_imports_neither_the_demo_app_nor_the_simulator():
    result = subprocess.run(
        [sys.executable, "-c", LOAD_THE_APP], cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
