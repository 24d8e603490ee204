"""The demo is not part of the product: the product's settings never install it, nothing the
product loads imports it, and no demo module can be imported under them."""

import subprocess
import sys

from tests.live import ROOT, subprocess_env
from tests.test_settings import PRODUCTION

LOAD_THE_APP = """
import sys
from timedify_ops.wsgi import application  # django.setup(), every app's ready()
from django.urls import get_resolver
get_resolver().url_patterns  # every view module
import timedify_ops.schedules
print(sorted(name for name in sys.modules if name == "demo" or name.startswith("demo.")))
try:
    import demo.seed
except Exception as error:
    print(type(error).__name__, error)
"""


def product_env(**overrides: str) -> dict[str, str]:
    env = subprocess_env(**{**PRODUCTION, "DJANGO_SETTINGS_MODULE": "timedify_ops.settings", **overrides})
    env.pop("TIMEDIFY_TEST_SQLITE_NAME", None)
    return env


def test_the_product_loads_no_demo_module_and_cannot_import_one(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", LOAD_THE_APP],
        cwd=ROOT,
        env=product_env(TIMEDIFY_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        check=True,
    )
    loaded, refused = result.stdout.strip().splitlines()
    assert loaded == "[]"
    assert refused.startswith("ImproperlyConfigured the demo is not part of the product")


def test_seed_demo_is_a_command_of_the_demos_settings_only(tmp_path):
    product = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--help"],
        cwd=ROOT,
        env=product_env(TIMEDIFY_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
    )
    assert product.returncode == 1
    assert "Unknown command: 'seed_demo'" in product.stderr
    demo = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--help"],
        cwd=ROOT,
        env=product_env(TIMEDIFY_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="demo.settings"),
        capture_output=True,
        text=True,
    )
    assert demo.returncode == 0, demo.stderr
    assert "realistic week" in demo.stdout
