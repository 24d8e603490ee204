import os

from django.core.wsgi import get_wsgi_application

from timedify_ops.checks import refuse_bad_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timedify_ops.settings")

application = get_wsgi_application()
# gunicorn runs no system checks: the rooms' settings checks run here, so a web process refuses a
# setting that `migrate` and `qcluster` refuse too, with a message naming the variable.
refuse_bad_settings()
