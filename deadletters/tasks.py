"""django-q2 entry points; thin wrappers around deadletters.services (the command calls the same)."""

from deadletters import services


def replay(dead_letter_id: int, token: str, bulk_id: int | None = None) -> str:
    return services.perform_replay(dead_letter_id, token, bulk_id=bulk_id).message


def run_bulk(bulk_id: int, token: str | None = None) -> str:
    return services.run_bulk(bulk_id, token)
