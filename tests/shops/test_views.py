"""/shops/ and /shops/synthetic/: token state without ever a token on the page; operator actions
(check now, send synthetic webhooks) are POST-only, operator-only and audited."""

import pytest
from django.test import Client
from django.utils import timezone

from shops.models import Shop, SyntheticRun
from tests.conftest import make_user, run_queued_tasks
from tests.shops.conftest import GRAPHQL, json_response, make_shop, shop_answer
from timedify_ops.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_the_shops_page_needs_login(anonymous_client):
    assert anonymous_client.get("/shops/").status_code == 302


def test_the_top_bar_links_the_shops_section(viewer_client):
    assert b'href="/shops/"' in viewer_client.get("/").content


def test_the_list_shows_token_state_and_never_a_token(viewer_client):
    make_shop("fine.myshopify.com", token="shpat_visible_nowhere", expires_in_s=3600, refresh="shprt_visible_nowhere")
    make_shop(
        "broken.myshopify.com", token_invalid_at=timezone.now(), token_error="401 Unauthorized from the Admin API"
    )
    Shop.objects.filter(domain="fine.myshopify.com").update(
        last_check_at=timezone.now(), last_check_ok=True, scopes="read_products,write_orders"
    )
    response = viewer_client.get("/shops/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-token-state="ok"' in page and 'data-token-state="invalid"' in page
    assert "401 Unauthorized from the Admin API" in page
    assert "read_products,write_orders" in page
    assert 'data-problems="1"' in page
    assert "shpat_visible_nowhere" not in page and "shprt_visible_nowhere" not in page
    shop = Shop.objects.get(domain="fine.myshopify.com")
    assert shop.access_token_encrypted not in page
    assert "Check now" not in page  # viewers get no buttons


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("?state=problems", ["broken.myshopify.com"]),
        ("?state=uninstalled", ["gone.myshopify.com"]),
        ("?q=fin", ["fine.myshopify.com"]),
    ],
)
def test_filters_live_in_the_query_string(viewer_client, query, shown):
    make_shop("fine.myshopify.com")
    make_shop("broken.myshopify.com", token_invalid_at=timezone.now())
    make_shop("gone.myshopify.com", installed=False)
    rows = viewer_client.get(f"/shops/{query}").context["rows"]
    assert [row["shop"].domain for row in rows] == shown


def test_a_bad_filter_is_explained_not_a_500(viewer_client):
    response = viewer_client.get("/shops/?state=weird&after=garbage")
    assert response.status_code == 200
    assert b"Unknown state" in response.content and b"cursor is malformed" in response.content


def test_the_list_pages_with_a_keyset_cursor(viewer_client, monkeypatch):
    monkeypatch.setattr("shops.views.SHOPS_PAGE_SIZE", 2)
    for number in range(3):
        make_shop(f"shop-{number}.myshopify.com")
    first = viewer_client.get("/shops/").context
    assert first["page"].has_next
    second = viewer_client.get("/shops/", {"after": first["page"].next_cursor}).context
    domains = [row["shop"].domain for row in first["rows"] + second["rows"]]
    assert sorted(domains) == ["shop-0.myshopify.com", "shop-1.myshopify.com", "shop-2.myshopify.com"]


def test_the_admin_never_shows_tokens():
    admin = make_user("ada", role="operator", superuser=True)
    client = Client()
    client.force_login(admin)
    shop = make_shop(token="shpat_admin_secret")
    page = client.get(f"/admin/shops/shop/{shop.pk}/change/").content.decode()
    assert "demo-shop.myshopify.com" in page
    assert "shpat_admin_secret" not in page and shop.access_token_encrypted not in page
    assert "access_token_encrypted" not in page


# --------------------------------------------------------------------------- check now


def test_check_now_is_post_only(operator_client):
    shop = make_shop()
    assert operator_client.get(f"/shops/{shop.pk}/check/").status_code == 405


def test_check_now_is_for_operators(viewer_client):
    shop = make_shop()
    assert viewer_client.post(f"/shops/{shop.pk}/check/").status_code == 403


def test_check_now_checks_records_and_audits(operator_client, shopify):
    shopify.expect_request(GRAPHQL).respond_with_response(json_response(shop_answer()))
    shop = make_shop()
    response = operator_client.post(f"/shops/{shop.pk}/check/", follow=True)
    assert b"works" in response.content
    shop.refresh_from_db()
    assert shop.last_check_ok is True
    entry = AuditEntry.objects.get(action="shops.check_token")
    assert (entry.actor_name, entry.target_id) == ("olivia", str(shop.pk))


# --------------------------------------------------------------------------- synthetic


def test_the_synthetic_page_lists_runs_for_viewers_without_the_form(viewer_client):
    SyntheticRun.objects.create(
        topics=["shop/redact"],
        status="done",
        ok=False,
        results=[
            {"topic": "shop/redact", "url": "http://x/webhooks/shop/redact", "status_code": 500, "ms": 3.2, "ok": False}
        ],
    )
    page = viewer_client.get("/shops/synthetic/").content.decode()
    assert 'data-topic="shop/redact"' in page and ">500<" in page and "1 failed" in page
    assert '<span class="badge">synthetic</span>' in page
    assert "Send synthetic webhooks" not in page


def test_sending_is_post_only(operator_client):
    assert operator_client.get("/shops/synthetic/send/").status_code == 405


def test_sending_is_for_operators(viewer_client, empty_queue):
    assert viewer_client.post("/shops/synthetic/send/", {"topics": ["shop/redact"]}).status_code == 403
    assert not SyntheticRun.objects.exists()


def test_an_operator_sends_the_set_and_sees_the_results(operator_client, settings, httpserver, empty_queue):
    settings.SYNTHETIC_INGRESS_URL = httpserver.url_for("/")
    httpserver.expect_request("/webhooks/shop/redact").respond_with_data("nope", status=500)
    httpserver.expect_request("/webhooks/app/uninstalled").respond_with_data("ok")
    response = operator_client.post(
        "/shops/synthetic/send/", {"topics": ["app/uninstalled", "shop/redact"], "target": "ingress"}, follow=True
    )
    assert b"queued" in response.content
    run = SyntheticRun.objects.get()
    assert run.status == "pending" and run.requested_by.username == "olivia"
    pending = operator_client.get(f"/shops/synthetic/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in pending

    assert run_queued_tasks() == ["failed: shop/redact"]

    run.refresh_from_db()
    assert run.status == "done" and run.ok is False
    assert [(r["topic"], r["status_code"]) for r in run.results] == [("app/uninstalled", 200), ("shop/redact", 500)]
    sent = [request for request, _ in httpserver.log]
    assert all(request.headers["X-Timedify-Synthetic"] == "1" for request in sent)
    assert {request.headers["X-Shopify-Shop-Domain"] for request in sent} == {"timedify-synthetic.myshopify.com"}
    done = operator_client.get(f"/shops/synthetic/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and 'data-topic="shop/redact"' in done
    assert b"Run " in operator_client.get(f"/shops/synthetic/{run.pk}/").content
    entry = AuditEntry.objects.get(action="shops.synthetic_send")
    assert entry.count == 2 and entry.details["topics"] == ["app/uninstalled", "shop/redact"]


def test_sending_to_the_app_uses_the_forwarding_targets(operator_client, settings, httpserver, empty_queue):
    settings.WEBHOOK_TARGET_URL = httpserver.url_for("/app-webhooks")
    httpserver.expect_request("/app-webhooks").respond_with_data("ok")
    operator_client.post("/shops/synthetic/send/", {"topics": ["customers/redact"], "target": "app"})
    assert run_queued_tasks() == ["ok"]
    assert httpserver.log[0][0].headers["X-Shopify-Topic"] == "customers/redact"


def test_a_bad_send_is_explained_and_nothing_is_sent(operator_client, empty_queue):
    response = operator_client.post(
        "/shops/synthetic/send/", {"topics": ["orders/create"], "target": "moon", "path_style": "x"}, follow=True
    )
    page = response.content.decode()
    assert "Nothing sent" in page and "unknown target" in page and "not a configured topic: orders/create" in page
    assert not SyntheticRun.objects.exists()
