"""gunicorn settings, read from the environment (Fly sets PORT; WEB_CONCURRENCY sizes the workers)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Sync workers: live views poll with htmx, nothing holds a connection open.
worker_class = "sync"
# Shopify gives up after 5 s; a request still running at 30 s is stuck.
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
# %(L)s is the request time in seconds (decimal).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'
# The control socket lives at one path per user; several gunicorns on a machine would fight over it.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
