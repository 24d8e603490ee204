"""Keyset pagination, newest first: no OFFSET, no COUNT(*).

The cursor is the (timestamp, id) of the last row shown; the next page is every row
strictly "older" in (timestamp desc, id desc) order, which an index on
(timestamp, id) — or (filter column, timestamp, id) — serves directly at any depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime


class BadCursor(ValueError):
    pass


@dataclass
class KeysetPage:
    items: list
    next_cursor: str | None
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def encode_cursor(moment: datetime, pk: int) -> str:
    return f"{moment.isoformat()}~{pk}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    moment_text, sep, pk_text = cursor.rpartition("~")
    if not sep:
        raise BadCursor("the page cursor is malformed")
    try:
        moment = parse_datetime(moment_text)
        pk = int(pk_text)
    except ValueError:
        raise BadCursor("the page cursor is malformed") from None
    if moment is None:
        raise BadCursor("the page cursor is malformed")
    return moment, pk


def keyset_page(queryset: QuerySet, *, cursor: str | None, page_size: int, field: str = "created_at") -> KeysetPage:
    qs = queryset.order_by(f"-{field}", "-pk")
    if cursor:
        moment, pk = decode_cursor(cursor)
        # The redundant `<=` is what the index can seek to; the OR alone is only a filter,
        # so without it PostgreSQL reads every row above a deep cursor (bench/deadletters.py).
        qs = qs.filter(**{f"{field}__lte": moment}).filter(
            Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": pk})
        )
    rows = list(qs[: page_size + 1])
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, field), last.pk)
    return KeysetPage(items=rows, next_cursor=next_cursor, page_size=page_size)


def keyset_page_or_first(
    queryset: QuerySet, *, cursor: str | None, page_size: int, errors: list[str], field: str = "created_at"
) -> KeysetPage:
    """The page after `cursor`, as the list pages ask for it (`?after=…`); a malformed cursor gives
    the first page, and the reason joins the page's `errors`."""
    try:
        return keyset_page(queryset, cursor=cursor or None, page_size=page_size, field=field)
    except BadCursor as error:
        errors.append(str(error))
        return keyset_page(queryset, cursor=None, page_size=page_size, field=field)
