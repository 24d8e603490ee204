"""POST /logs/ingest: real-shaped Fly batches, auth, garbage, oversize, partial batches."""

import base64
import gzip
import json

import pytest

from dashboard.logs import records
from dashboard.logs.models import LogEntry
from tests.logs.conftest import fly_record, post_logs

pytestmark = pytest.mark.django_db


def test_a_fly_shipper_batch_is_stored_field_by_field(anonymous_client):
    batch = [
        fly_record("Received webhook APP/UNINSTALLED shop=demo.myshopify.com"),
        fly_record(
            "prisma:error Invalid `prisma.session.findUnique()` invocation",
            timestamp="2026-11-26T10:00:01.000000001Z",
            log={"level": "info"},
            fly={"app": {"name": "timedify", "instance": "0e286551c30586"}, "region": "iad"},
            event={"provider": "app"},
            kubernetes_like={"pod": "x"},
        ),
    ]
    response = post_logs(anonymous_client, batch)
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "rejected": 0, "errors": []}
    first, second = LogEntry.objects.order_by("id")
    assert first.app == "timedify" and first.instance == "148e453f2d4e89" and first.region == "fra"
    assert first.provider == "app" and first.host == "a1b2" and first.topic == "app/uninstalled"
    assert first.timestamp_text == "2026-11-26 10:00:00.123456789"
    assert first.timestamp.isoformat() == "2026-11-26T10:00:00.123456+00:00"
    assert first.level == records.INFO and first.extra == {}
    assert second.timestamp_ns % 1_000_000_000 == 1
    assert second.level == records.ERROR, "prisma … error is an error line even when Fly says info"
    assert second.region == "iad" and second.extra == {"kubernetes_like": {"pod": "x"}}


def test_ndjson_batches_are_accepted(anonymous_client):
    body = "\n".join(json.dumps(fly_record(f"line {n}")) for n in range(3)) + "\n"
    response = post_logs(anonymous_client, body, content_type="application/x-ndjson")
    assert response.json()["accepted"] == 3
    assert list(LogEntry.objects.order_by("id").values_list("message", flat=True)) == ["line 0", "line 1", "line 2"]


def test_ndjson_labelled_as_json_is_still_read(anonymous_client):
    body = "\n".join(json.dumps(fly_record(f"line {n}")) for n in range(2))
    response = post_logs(anonymous_client, body, content_type="application/json")
    assert response.status_code == 200 and response.json()["accepted"] == 2


def test_a_single_json_object_is_one_record(anonymous_client):
    response = post_logs(anonymous_client, fly_record("alone"))
    assert response.json() == {"accepted": 1, "rejected": 0, "errors": []}


def test_plain_text_lines_are_messages_and_fly_cli_lines_keep_their_fields(anonymous_client):
    body = "first plain line\n\n2026-11-26T10:00:00Z app[148e453f2d4e89] ams [error] SHOP/REDACT failed\n"
    response = post_logs(
        anonymous_client, body, content_type="text/plain; charset=utf-8", path="/logs/ingest?app=timedify"
    )
    assert response.json()["accepted"] == 2
    plain, parsed = LogEntry.objects.order_by("id")
    assert plain.message == "first plain line" and plain.app == "timedify"
    assert parsed.region == "ams" and parsed.level == records.ERROR and parsed.topic == "shop/redact"
    assert parsed.message == "SHOP/REDACT failed"


def test_a_partial_batch_stores_the_good_records_and_counts_the_bad(anonymous_client):
    batch = [fly_record("good 1"), "not an object", {"no": "message"}, fly_record("good 2", timestamp="soon")]
    response = post_logs(anonymous_client, batch)
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1 and answer["rejected"] == 3
    assert answer["errors"] == [
        "record 2: not a JSON object",
        "record 3: no message",
        "record 4: timestamp 'soon' is not RFC 3339",
    ]
    assert list(LogEntry.objects.values_list("message", flat=True)) == ["good 1"]


def test_bad_ndjson_lines_are_counted_not_fatal(anonymous_client):
    body = json.dumps(fly_record("ok")) + "\n{broken\n"
    answer = post_logs(anonymous_client, body, content_type="application/x-ndjson").json()
    assert answer["accepted"] == 1 and answer["rejected"] == 1
    assert answer["errors"][0].startswith("line 2: not JSON")


def test_the_error_list_is_kept_short(anonymous_client):
    answer = post_logs(anonymous_client, [1] * 50).json()
    assert answer["rejected"] == 50 and len(answer["errors"]) == 10


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("this is not json", "application/json"),
        ("{broken", "application/json"),
        ('"a string"', "application/json"),
        ("garbage\nmore garbage\n", "application/x-ndjson"),
        ("[" * 100_000, "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
    ],
)
def test_garbage_where_json_was_declared_is_a_400(anonymous_client, body, content_type):
    response = post_logs(anonymous_client, body, content_type=content_type)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not LogEntry.objects.exists()


def test_an_unknown_content_type_is_a_415(anonymous_client):
    response = post_logs(anonymous_client, "<xml/>", content_type="application/xml")
    assert response.status_code == 415


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer wrong-token", "Bearer", "Token test-log-ingest-token-0123456789", "Basic !!!"],
)
def test_a_missing_or_wrong_token_is_a_401(anonymous_client, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = anonymous_client.post("/logs/ingest", data="[]", content_type="application/json", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not LogEntry.objects.exists()


def test_basic_auth_with_the_token_as_password_is_accepted(anonymous_client, settings):
    credentials = base64.b64encode(f"shipper:{settings.LOG_INGEST_TOKEN}".encode()).decode()
    response = post_logs(anonymous_client, [fly_record()], token="", HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_a_body_over_the_limit_is_a_413(anonymous_client, settings):
    settings.LOG_INGEST_MAX_BYTES = 2048
    response = post_logs(anonymous_client, [fly_record("x" * 100)] * 20)
    assert response.status_code == 413
    assert not LogEntry.objects.exists()


def test_a_gzip_body_is_read_and_its_unpacked_size_is_limited(anonymous_client, settings):
    body = gzip.compress(json.dumps([fly_record("zipped")]).encode())
    response = post_logs(anonymous_client, body, HTTP_CONTENT_ENCODING="gzip")
    assert response.json()["accepted"] == 1
    settings.LOG_INGEST_MAX_BYTES = 4096
    bomb = gzip.compress(b"[" + b" " * 1_000_000 + b"]")
    assert len(bomb) < 4096
    assert post_logs(anonymous_client, bomb, HTTP_CONTENT_ENCODING="gzip").status_code == 413


def test_other_methods_are_refused(anonymous_client):
    assert anonymous_client.get("/logs/ingest").status_code == 405


def test_an_empty_batch_is_fine(anonymous_client):
    assert post_logs(anonymous_client, []).json() == {"accepted": 0, "rejected": 0, "errors": []}


def test_a_database_failure_is_a_503_not_a_500(anonymous_client, monkeypatch):
    from django.db import OperationalError

    def refuse(rows):
        raise OperationalError("the database is down")

    monkeypatch.setattr("dashboard.logs.ingest.insert_rows", refuse)
    response = post_logs(anonymous_client, [fly_record()])
    assert response.status_code == 503


def test_strange_but_valid_json_never_gives_a_500(anonymous_client):
    batch = [
        fly_record(None),
        fly_record(12),
        fly_record("ok", timestamp=None),
        fly_record("ok", fly="not a dict"),
        fly_record("ok", log={"level": 50}),
        fly_record("ok", timestamp=1e300),
        fly_record("x\x00y", extra_field="\ud83d"),
        {"message": "minimal"},
    ]
    response = post_logs(anonymous_client, batch)
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] + answer["rejected"] == len(batch)
    assert answer["rejected"] == 1  # the timestamp 1e300
