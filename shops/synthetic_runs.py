"""Synthetic webhook runs from the console: signed webhooks to this ingress or straight to the app.

/shops/synthetic/ "Send" → start_synthetic_run (the run and its task, together) ─▶ task
shops.tasks.run_synthetic → run_synthetic (claims the run, sends, stores the results table)
`manage.py synthetic_webhook_test` sends the same requests (timedify_ops.lib.synthetic) from a terminal.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shops.models import SyntheticRun
from timedify_ops.lib import synthetic
from timedify_ops.queue import enqueue
from webhooks.services import target_url_for

events_log = logging.getLogger("timedify_ops.events")

SYNTHETIC_TASK = "shops.tasks.run_synthetic"


def synthetic_requests(
    *, target: str, base_url: str, topics: list[str], path_style: str = "topic"
) -> list[synthetic.SyntheticRequest]:
    """One signed synthetic webhook per topic: to this ingress (`base_url`) or straight to the app
    (where forwarding sends the topic: WEBHOOK_TARGET_URL or its per-topic override)."""
    requests = []
    for topic in topics:
        if target == SyntheticRun.Target.APP:
            url = target_url_for(topic)
        else:
            url = synthetic.url_for(base_url, topic, path_style)
        requests.append(
            synthetic.build_request(
                topic,
                url,
                secret=settings.SHOPIFY_API_SECRET,
                shop=settings.SYNTHETIC_SHOP_DOMAIN,
                api_version=settings.SHOPIFY_API_VERSION,
            )
        )
    return requests


def start_synthetic_run(*, user, target: str, base_url: str, topics: list[str], path_style: str) -> SyntheticRun:
    with transaction.atomic():
        run = SyntheticRun.objects.create(
            requested_by=user if getattr(user, "pk", None) else None,
            target=target,
            base_url=base_url[:500] if target == SyntheticRun.Target.INGRESS else "",
            path_style=path_style,
            topics=topics,
        )
        enqueue(SYNTHETIC_TASK, run.pk, task_name=f"synthetic-{run.pk}", group="synthetic", save=False)
    return run


def run_synthetic(run_pk: int) -> str:
    """The worker's half: claim the run, send, store the results table."""
    if not SyntheticRun.objects.claim(run_pk):
        return "skipped: already running or done"
    run = SyntheticRun.objects.get(pk=run_pk)
    try:
        requests = synthetic_requests(
            target=run.target, base_url=run.base_url, topics=run.topics, path_style=run.path_style
        )
        results = synthetic.send(requests, timeout_s=settings.SYNTHETIC_TIMEOUT_S)
    except Exception as error:  # the run must finish and say why
        run.error = f"{type(error).__name__}: {error}"[:1000]
        results = []
    run.results = [result.as_dict() for result in results]
    run.ok = bool(results) and all(result.ok for result in results) and not run.error
    run.status = SyntheticRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["results", "ok", "status", "finished_at", "error"])
    failed = [result.topic for result in results if not result.ok]
    if run.ok:
        events_log.info("synthetic webhooks ok: run=%s topics=%d", run.pk, len(results))
    else:
        events_log.warning(
            "synthetic webhooks failed: run=%s failed=%s error=%s", run.pk, ",".join(failed) or "-", run.error
        )
    return "ok" if run.ok else f"failed: {', '.join(failed) or run.error}"
