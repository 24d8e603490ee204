"""The django-q2 task path of every schedule run: Schedule rows and queued "Run now" tasks name
`timedify_ops.schedules.run_job` (timedify_ops.jobs.registry.RUNNER), so this path stays put
whatever moves; the registry and the runner are timedify_ops.jobs."""

from timedify_ops.jobs import services


def run_job(key: str, *, trigger: str = "schedule", user=None, user_id: int | None = None):
    return services.run_job(key, trigger=trigger, user=user, user_id=user_id)
