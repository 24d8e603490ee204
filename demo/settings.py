"""The demo's settings: the product's, plus the demo app (`manage.py seed_demo`).

`python3 scripts/dev.py demo` runs every process of the demo with DJANGO_SETTINGS_MODULE=demo.settings;
the product's settings (timedify_ops.settings) never install it.
"""

from timedify_ops.settings import *  # noqa: F403
from timedify_ops.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "demo"]
