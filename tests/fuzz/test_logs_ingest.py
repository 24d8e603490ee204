"""POST /logs/ingest under random batches: Fly-shaped records with any field broken, any JSON,
NDJSON, plain text, gzip, random bytes and content types.

Properties: never a 5xx; a batch the endpoint reads answers accepted + rejected = the number of
records sent, and exactly the accepted ones are stored.
"""

from __future__ import annotations

import gzip
import json

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import event as label
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.logs.models import LogEntry
from tests.fuzz.conftest import json_values, nasty_text

pytestmark = pytest.mark.django_db


def field(valid, *, missing=True):
    """A record field: its valid shape (mostly), or anything at all."""
    options = [valid, valid, json_values, nasty_text]
    return st.one_of(*options) if not missing else st.one_of(*options, st.just(None))


timestamps = st.one_of(
    st.just("2026-11-26T10:00:00.123456789Z"),
    st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
    st.integers(),
    st.floats(allow_nan=False),
    nasty_text,
)


@st.composite
def fly_records(draw):
    record = {
        "timestamp": draw(field(timestamps)),
        "message": draw(field(nasty_text)),
        "host": draw(field(st.just("a1b2"))),
        "log": draw(field(st.fixed_dictionaries({"level": st.sampled_from(["info", "ERROR", "warn", "x", ""])}))),
        "event": draw(field(st.fixed_dictionaries({"provider": nasty_text}))),
        "fly": draw(
            field(
                st.fixed_dictionaries(
                    {
                        "app": st.fixed_dictionaries({"name": nasty_text, "instance": nasty_text}),
                        "region": nasty_text,
                    }
                )
            )
        ),
    }
    record.update(draw(st.dictionaries(nasty_text, json_values, max_size=3)))
    record = {key: value for key, value in record.items() if value is not None}
    return draw(st.one_of(st.just(record), st.just(record), json_values))


def post(body: bytes, content_type: str, **headers):
    headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {django_settings.LOG_INGEST_TOKEN}")
    return Client().generic("POST", "/logs/ingest", data=body, content_type=content_type, **headers)


def answer_adds_up(response, records: int) -> None:
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["accepted"] + answer["rejected"] == records
    assert len(answer["errors"]) == min(answer["rejected"], 10)


@settings(max_examples=80)
@given(batch=st.lists(fly_records(), max_size=12), gzipped=st.booleans(), ascii_only=st.booleans())
def test_a_json_batch_accounts_for_every_record(batch, gzipped, ascii_only):
    body = json.dumps(batch, ensure_ascii=ascii_only).encode("utf-8", errors="surrogatepass")
    headers = {"HTTP_CONTENT_ENCODING": "gzip"} if gzipped else {}
    before = LogEntry.objects.count()
    response = post(gzip.compress(body) if gzipped else body, "application/json", **headers)
    # (A raw lone surrogate is not UTF-8, but JSON readers take it, as Python's json does.)
    answer_adds_up(response, len(batch))
    assert LogEntry.objects.count() - before == response.json()["accepted"]


@settings(max_examples=60)
@given(batch=st.lists(fly_records(), min_size=1, max_size=12), blank_lines=st.booleans())
def test_an_ndjson_batch_accounts_for_every_line(batch, blank_lines):
    lines = [json.dumps(record) for record in batch]
    body = ("\n\n" if blank_lines else "\n").join(lines).encode()
    before = LogEntry.objects.count()
    response = post(body, "application/x-ndjson")
    answer_adds_up(response, len(batch))
    assert LogEntry.objects.count() - before == response.json()["accepted"]


@settings(max_examples=60)
@given(lines=st.lists(nasty_text, max_size=12))
def test_a_text_batch_accounts_for_every_line(lines):
    body = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    records = [line for line in body.decode("utf-8", errors="replace").splitlines() if line.strip()]
    response = post(body, "text/plain; charset=utf-8")
    answer_adds_up(response, len(records))


@settings(max_examples=80)
@given(
    body=st.binary(max_size=3000) | st.text(max_size=500).map(lambda text: text.encode("utf-8", "surrogatepass")),
    content_type=st.sampled_from(
        ["application/json", "application/x-ndjson", "text/plain", "", "application/xml", "multipart/form-data", "\xe9"]
    ),
    encoding=st.sampled_from([None, "gzip", "deflate", "br", "identity"]),
    token=st.sampled_from(["right", "right", "right", "wrong", "none", "basic"]),
)
def test_any_body_gets_an_answer_never_a_server_error(body, content_type, encoding, token, settings):
    settings.LOG_INGEST_MAX_BYTES = 2048
    headers = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
    if token == "wrong":
        headers["HTTP_AUTHORIZATION"] = "Bearer nope"
    elif token == "none":
        headers["HTTP_AUTHORIZATION"] = ""
    elif token == "basic":
        headers["HTTP_AUTHORIZATION"] = "Basic Zmx5Og=="  # "fly:" — no password
    before = LogEntry.objects.count()
    response = post(body, content_type, **headers)
    label(f"HTTP {response.status_code}")
    assert response.status_code in {200, 400, 401, 413, 415}, response.content
    if response.status_code != 200:
        assert LogEntry.objects.count() == before
    else:
        assert LogEntry.objects.count() - before == response.json()["accepted"]
