"""Mapping shipper records to rows, without a database: timestamps, levels, topics, cleaning."""

import pytest

from dashboard.logs import records
from dashboard.logs.records import BadRecord, row_from_record
from tests.logs.conftest import fly_record

NOW_NS = 1_790_000_000_000_000_000


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("Received webhook APP/UNINSTALLED for demo.myshopify.com", "app/uninstalled"),
        ("processing customers/redact shop=demo", "customers/redact"),
        ("SHOP/REDACT done in 120ms", "shop/redact"),
        ("POST /webhooks/app/scopes_update 200", "app/scopes_update"),
        ("app_subscriptions/update queued", "app_subscriptions/update"),
        ("webhook topic CUSTOMERS_DATA_REQUEST received", "customers/data_request"),
        ("APP_UNINSTALLED", "app/uninstalled"),
        ("GET /health 200", ""),
        ("see /apps/shop/redact/x for details", ""),
        ("MY_APP_UNINSTALLED_FLAG", ""),
        ("[shopify-app/INFO] server started", ""),  # a logger name, not a topic
        ("GET /app/settings 200 12ms", ""),  # an app route, not a topic
        ('topic="shop/redact" handled', "shop/redact"),
    ],
)
def test_it_derives_the_webhook_topic_from_the_message(message, topic):
    assert records.derive_topic(message) == topic


def test_enum_topics_come_from_the_configured_list_too():
    assert records.derive_topic("ORDERS_CREATE arrived", ["orders/create"]) == "orders/create"


def test_topic_families_colour_app_customers_and_shop():
    assert records.topic_family("app/uninstalled") == "app"
    assert records.topic_family("app_subscriptions/update") == "app"
    assert records.topic_family("customers/redact") == "customers"
    assert records.topic_family("shop/redact") == "shop"
    assert records.topic_family("orders/create") == "other"
    assert records.topic_family("") == ""


def test_timestamps_keep_all_nine_digits():
    ns = records.parse_timestamp_ns("2026-11-26T10:00:00.123456789Z")
    assert ns % 1_000_000_000 == 123456789
    assert records.format_ns(ns) == "2026-11-26 10:00:00.123456789"
    assert records.ns_to_datetime(ns).isoformat() == "2026-11-26T10:00:00.123456+00:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T10:00:00Z", "2026-11-26 10:00:00.000000000"),
        ("2026-11-26T12:00:00.5+02:00", "2026-11-26 10:00:00.500000000"),
        ("2026-11-26 10:00:00.000001", "2026-11-26 10:00:00.000001000"),
        ("2026-11-26T10:00:00.1234567891234Z", "2026-11-26 10:00:00.123456789"),
    ],
)
def test_timestamps_in_other_spellings_are_read(text, expected):
    assert records.format_ns(records.parse_timestamp_ns(text)) == expected


def test_epoch_numbers_are_told_apart_by_magnitude():
    seconds = 1_795_000_000
    expected = seconds * 1_000_000_000
    assert records.parse_timestamp_ns(seconds) == expected
    assert records.parse_timestamp_ns(seconds * 1000) == expected
    assert records.parse_timestamp_ns(seconds * 1_000_000) == expected
    assert records.parse_timestamp_ns(expected) == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "9999-01-01T00:00:00Z", True, [], {}])
def test_a_bad_timestamp_is_a_bad_record(value):
    with pytest.raises(BadRecord):
        records.parse_timestamp_ns(value)


@pytest.mark.parametrize(
    ("declared", "message", "level"),
    [
        ("info", "GET /health 200", records.INFO),
        ("warn", "slow query", records.WARNING),
        ("ERROR", "boom", records.ERROR),
        ("info", "2026-11-26T10:00:00Z ERROR sink{component_id=x}: dropped", records.ERROR),
        ("info", "level=warn msg=retrying", records.WARNING),
        ("info", '{"level":"error","msg":"x"}', records.ERROR),
        ("info", "webhook error: target answered 500", records.ERROR),
        ("info", "PrismaClientKnownRequestError: Prisma error P2002", records.ERROR),
        ("info", "Traceback (most recent call last):", records.ERROR),
        ("error", "INFO all good", records.ERROR),  # a message never lowers the declared level
        ("info", "no errors today", records.INFO),
        (None, "plain", records.INFO),
        ("notice", "x", records.INFO),
        ("fatal", "x", records.CRITICAL),
    ],
)
def test_levels_are_normalised_and_raised_by_what_the_message_says(declared, message, level):
    assert records.effective_level(declared, message) == level


def test_a_fly_record_maps_every_field_and_keeps_the_rest():
    record = fly_record("Received APP/UNINSTALLED", log={"level": "warn", "logger": "remix"}, trace_id="abc")
    row = row_from_record(record, now_ns=NOW_NS)
    assert (row.app, row.instance, row.region, row.provider, row.host) == (
        "timedify",
        "148e453f2d4e89",
        "fra",
        "app",
        "a1b2",
    )
    assert row.level == records.WARNING
    assert row.topic == "app/uninstalled"
    assert row.timestamp_ns % 1_000_000_000 == 123456789
    assert row.extra == {"log": {"logger": "remix"}, "trace_id": "abc"}
    assert record["fly"]["app"]["name"] == "timedify", "the caller's record is left alone"


def test_missing_fields_are_filled_from_the_defaults_and_the_time_from_now():
    row = row_from_record({"message": "hello"}, now_ns=NOW_NS, defaults={"app": "worker", "region": "ams"})
    assert (row.app, row.region, row.timestamp_ns) == ("worker", "ams", NOW_NS)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("just a string", "not a JSON object"),
        ({"timestamp": "2026-11-26T10:00:00Z"}, "no message"),
        (fly_record(timestamp="last tuesday"), "is not RFC 3339"),
        (fly_record(host={"nested": True}), "host is not a string"),
    ],
)
def test_bad_records_say_why(record, reason):
    with pytest.raises(BadRecord, match=reason):
        row_from_record(record, now_ns=NOW_NS)


def test_values_postgresql_would_refuse_are_cleaned_or_cut():
    record = fly_record(
        "nul\x00byte and a lone \ud800 surrogate", host="h" * 500, weird={"k\x00": "v\udfff", "n": float("nan")}
    )
    row = row_from_record(record, now_ns=NOW_NS)
    assert "\x00" not in row.message and "\ud800" not in row.message
    assert len(row.host) == records.MAX_LENGTHS["host"]
    assert row.extra == {"weird": {"k\ufffd": "v?", "n": None}}


def test_a_non_string_message_is_kept_as_json_text():
    row = row_from_record(fly_record({"event": "started", "port": 3000}), now_ns=NOW_NS)
    assert row.message == '{"event": "started", "port": 3000}'


def test_fly_cli_lines_are_parsed_with_or_without_colours():
    line = "\x1b[2m2026-11-26T10:00:00Z\x1b[0m app[148e453f2d4e89] fra [info]ERROR: Exception in ASGI application"
    fields = records.parse_fly_cli_line(line)
    assert fields["timestamp"] == "2026-11-26T10:00:00Z"
    assert fields["fly"] == {"app": {"instance": "148e453f2d4e89"}, "region": "fra"}
    assert fields["event"] == {"provider": "app"}
    assert fields["message"] == "ERROR: Exception in ASGI application"
    assert records.parse_fly_cli_line("not a fly line") is None


def test_the_short_path_for_the_shippers_exact_shape_maps_like_the_general_one():
    exact = row_from_record(fly_record("Received APP/UNINSTALLED"), now_ns=NOW_NS)
    general = row_from_record(fly_record("Received APP/UNINSTALLED", extra_key=1), now_ns=NOW_NS)
    assert general.extra == {"extra_key": 1}
    general.extra = {}
    assert exact == general
