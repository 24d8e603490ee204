"""django-q2 entry points; thin wrappers around deadletters.services (the command calls the same)."""

from deadletters.services import bulk, letter


def replay(dead_letter_id: int, token: str, bulk_id: int | None = None) -> str:
    if bulk_id is None:
        return letter.perform_replay(dead_letter_id, token).message
    return bulk.replay_item(bulk_id, dead_letter_id, token).message


def run_bulk(bulk_id: int, token: str | None = None) -> str:
    return bulk.run_bulk(bulk_id, token)
