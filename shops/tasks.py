"""django-q2 entry points; thin wrappers around services."""

from shops import services


def run_synthetic(run_pk: int) -> str:
    return services.run_synthetic(run_pk)
