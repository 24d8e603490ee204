"""manage.py synthetic_webhook_test: one signed webhook per configured topic; exit 0 when all
answer 2xx, 1 on any other answer or a timeout. Against a local server and against gunicorn
serving this very ingress."""

import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from werkzeug import Response

from tests.live import gunicorn, subprocess_env
from timedify_ops.lib import signing, topics
from webhooks.models import WebhookEvent

SECRET = "shpss_test_current_secret"
DEFAULT_TOPICS = list(topics.DEFAULT_TOPICS)


def run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("synthetic_webhook_test", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_all_six_topics_answered_2xx_exit_0(shopify):
    seen = []

    def app(request):
        seen.append(request)
        return Response("ok")

    for topic in DEFAULT_TOPICS:
        shopify.expect_request(f"/webhooks/{topic}", method="POST").respond_with_handler(app)
    code, out, _ = run("--url", shopify.url_for("/"))
    assert code == 0, out
    assert "all 6 synthetic webhook(s) answered 2xx" in out
    lines = out.splitlines()
    assert lines[0].split() == ["topic", "status", "ms"]
    assert [line.split()[0] for line in lines[2:8]] == DEFAULT_TOPICS
    assert all(line.split()[1] == "200" for line in lines[2:8])
    for request in seen:
        assert signing.verify(request.get_data(), request.headers["X-Shopify-Hmac-Sha256"], [SECRET])
        assert request.headers["X-Timedify-Synthetic"] == "1"
        assert request.headers["X-Shopify-Shop-Domain"] == "timedify-synthetic.myshopify.com"
        assert request.path == f"/webhooks/{request.headers['X-Shopify-Topic']}"
    assert json.loads(seen[1].get_data())["current"]  # app/scopes_update carries the new scopes


def test_one_failing_topic_exits_1_and_says_which(shopify):
    shopify.expect_request("/webhooks/customers/redact").respond_with_response(Response("app error", status=500))
    for topic in DEFAULT_TOPICS:
        shopify.expect_request(f"/webhooks/{topic}").respond_with_data("ok")
    code, out, err = run("--url", shopify.url_for("/"))
    assert code == 1
    assert any(line.split()[:2] == ["customers/redact", "500"] for line in out.splitlines())
    assert "customers/redact" in err and "1 of 6 synthetic webhook(s) failed" in err


def test_a_timeout_exits_1(shopify):
    release = threading.Event()

    def slow(request):
        release.wait(5)
        return Response("late")

    shopify.expect_request("/webhooks/shop/redact").respond_with_handler(slow)
    try:
        code, out, err = run("--url", shopify.url_for("/"), "--topics", "shop/redact", "--timeout", "0.2")
    finally:
        release.set()
    assert code == 1
    assert "timeout after 0.2 s" in out


def test_a_redirect_is_a_failure_as_for_shopify(shopify):
    shopify.expect_request("/webhooks/shopify").respond_with_response(
        Response("", status=301, headers={"Location": "/"})
    )
    code, out, _ = run(
        "--url", shopify.url_for("/"), "--path-style", "single", "--topics", "app/uninstalled,shop/redact"
    )
    assert code == 1
    assert [line.split()[1] for line in out.splitlines()[2:4]] == ["301", "301"]


def test_nothing_listening_exits_1():
    from tests.live import free_port

    code, out, _ = run("--url", f"http://127.0.0.1:{free_port()}", "--topics", "app/uninstalled")
    assert code == 1 and "ConnectError" in out


def test_a_bad_url_is_refused():
    with pytest.raises(CommandError, match="must be an absolute http/https URL"):
        call_command("synthetic_webhook_test", "--url", "ops.example.com")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_against_this_ingress_under_gunicorn_every_topic_is_stored_as_synthetic(tmp_path, empty_queue):
    env = subprocess_env()
    with gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as base:
        for style in ("topic", "single"):
            code, out, err = run("--url", base, "--path-style", style)
            assert code == 0, out + err
    events = WebhookEvent.objects.all()
    assert events.count() == 12
    assert all(event.synthetic for event in events)
    assert sorted({event.topic for event in events}) == sorted(DEFAULT_TOPICS)
    assert {event.shop_domain for event in events} == {"timedify-synthetic.myshopify.com"}
