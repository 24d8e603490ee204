"""django-q2 entry points; thin wrappers around services."""

from shops import synthetic_runs


def run_synthetic(run_pk: int) -> str:
    return synthetic_runs.run_synthetic(run_pk)
