"""The hourly token check, the Admin API client built for a shop (a 401 marks its token
invalid), and token_problems() for the tokens probe and alert rule."""

import pytest
from django.utils import timezone

from shops import services
from shops.models import Shop
from tests.shops.conftest import GRAPHQL, TOKEN_ENDPOINT, json_response, make_shop, refresh_answer, shop_answer
from timedify_ops.jobs import registry
from timedify_ops.jobs import services as jobs
from timedify_ops.jobs.models import JobRun
from timedify_ops.lib.shopify_admin import Unauthorized

pytestmark = pytest.mark.django_db

UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def test_the_check_is_an_hourly_job():
    job = registry.get_job("check-shop-tokens")
    assert job.func == "shops.services.check_tokens"
    assert job.every_minutes == 60 and job.cadence == "hourly"


def test_a_401_from_the_admin_api_marks_the_token_invalid(shopify):
    shopify.expect_request(GRAPHQL).respond_with_response(json_response(UNAUTHORIZED, status=401))
    shop = make_shop()
    client = services.admin_client(shop)
    with pytest.raises(Unauthorized):
        client.graphql("{ shop { name } }")
    shop.refresh_from_db()
    assert shop.token_invalid_at is not None
    assert shop.token_state() == Shop.TokenState.INVALID
    assert len(shopify.log) == 1  # no retry storm


def test_a_401_for_a_token_replaced_meanwhile_condemns_nothing(shopify):
    shopify.expect_request(GRAPHQL).respond_with_response(json_response(UNAUTHORIZED, status=401))
    shop = make_shop(token="shpat_old")
    client = services.admin_client(shop)
    make_shop(token="shpat_reinstalled")
    with pytest.raises(Unauthorized):
        client.graphql("{ shop { name } }")
    shop.refresh_from_db()
    assert shop.token_invalid_at is None


def test_the_job_checks_every_installed_shop_and_records_the_results(shopify):
    def answer(request):
        token = request.headers["X-Shopify-Access-Token"]
        if token == "shpat_revoked":
            return json_response(UNAUTHORIZED, status=401)
        return json_response(shop_answer())

    shopify.expect_request(GRAPHQL).respond_with_handler(answer)
    good = make_shop("good.myshopify.com", token="shpat_good")
    revoked = make_shop("revoked.myshopify.com", token="shpat_revoked")
    gone = make_shop("gone.myshopify.com", installed=False)

    assert jobs.run_job("check-shop-tokens") == {"checked": 2, "ok": 1, "failed": 1}

    good.refresh_from_db()
    revoked.refresh_from_db()
    gone.refresh_from_db()
    assert good.last_check_ok is True and good.last_check_at is not None and good.last_check_error == ""
    assert revoked.last_check_ok is False and "401" in revoked.last_check_error
    assert revoked.token_invalid_at is not None
    assert gone.last_check_at is None
    assert JobRun.objects.get(key="check-shop-tokens").ok is True
    assert [shop.domain for shop in services.token_problems()] == ["revoked.myshopify.com"]


def test_a_spent_time_budget_defers_the_rest_to_the_next_run_least_recently_checked_first(shopify):
    shopify.expect_request(GRAPHQL).respond_with_response(json_response(shop_answer()))
    checked_long_ago = make_shop("old.myshopify.com", last_check_at=timezone.now() - timezone.timedelta(hours=2))
    make_shop("recent.myshopify.com", last_check_at=timezone.now())
    never = make_shop("never.myshopify.com")
    assert services.check_tokens(budget_s=0) == {"checked": 1, "ok": 1, "failed": 0, "deferred": 2}
    never.refresh_from_db()
    assert never.last_check_ok is True  # never-checked shops come first
    assert services.check_tokens(budget_s=0)["checked"] == 1
    checked_long_ago.refresh_from_db()
    assert checked_long_ago.last_check_at > timezone.now() - timezone.timedelta(minutes=1)


def test_a_passing_check_clears_an_earlier_invalid_mark(shopify):
    shopify.expect_request(GRAPHQL).respond_with_response(json_response(shop_answer()))
    shop = make_shop(token_invalid_at=timezone.now(), token_error="401 Unauthorized")
    assert services.check_token(shop).ok
    shop.refresh_from_db()
    assert shop.token_invalid_at is None and shop.token_state() == Shop.TokenState.OK


def test_the_check_refreshes_an_expiring_token_first(shopify):
    shopify.expect_request(TOKEN_ENDPOINT).respond_with_response(json_response(refresh_answer(access="shpat_new")))
    seen = []

    def answer(request):
        seen.append(request.headers["X-Shopify-Access-Token"])
        return json_response(shop_answer())

    shopify.expect_request(GRAPHQL).respond_with_handler(answer)
    shop = make_shop(expires_in_s=10)
    assert services.check_token(shop).ok
    assert seen == ["shpat_new"]


def test_a_check_that_cannot_reach_shopify_is_recorded_as_failed(shopify):
    shopify.expect_request(GRAPHQL).respond_with_response(json_response({}, status=502))
    shop = make_shop()
    check = services.check_token(shop)
    assert not check.ok and "HTTP 502 after 5 attempts" in check.error
    shop.refresh_from_db()
    assert shop.last_check_ok is False and shop.token_invalid_at is None
    assert shop in services.token_problems()


def test_token_problems_lists_missing_invalid_and_expired_tokens():
    now = timezone.now()
    make_shop("fine.myshopify.com")
    make_shop("invalid.myshopify.com", token_invalid_at=now)
    Shop.objects.create(domain="tokenless.myshopify.com")
    make_shop("stale.myshopify.com", expires_in_s=-5, refresh=None)
    Shop.objects.filter(domain="stale.myshopify.com").update(refresh_token_encrypted="")
    make_shop("uninstalled.myshopify.com", installed=False, access_token_encrypted="")
    assert [shop.domain for shop in services.token_problems()] == [
        "invalid.myshopify.com",
        "stale.myshopify.com",
        "tokenless.myshopify.com",
    ]


def test_the_tokens_probe_fails_while_a_shop_needs_a_new_token():
    from dashboard.health import probes

    make_shop("fine.myshopify.com")
    assert probes.check_tokens() == ("ok", "1 installed shop(s), every token usable")
    make_shop("revoked.myshopify.com", token_invalid_at=timezone.now(), token_error="401 from the Admin API")
    state, detail = probes.check_tokens()
    assert state == "fail"
    assert detail == "1 shop(s) need a new token: revoked.myshopify.com: 401 from the Admin API"
    assert "tokens" in [probe.name for probe in probes.registry()]
