"""The Admin API client against a local server answering as Shopify documents: the retry budget
for network errors and 5xx, Retry-After on 429, GraphQL THROTTLED from the cost extension, and a
401 that stops at once. No database; waits are recorded, not slept."""

import json

import pytest
from werkzeug import Response

from tests.live import free_port
from timedify_ops.lib.retry import RetryBudget
from timedify_ops.lib.shopify_admin import (
    AdminAPIError,
    AdminClient,
    GraphQLError,
    RetryBudgetSpent,
    ThrottleStatus,
    TokenGrant,
    TokenRefreshError,
    Unauthorized,
    refresh_access_token,
)

GRAPHQL = "/admin/api/2026-10/graphql.json"
OK = {
    "data": {"shop": {"name": "Demo Shop"}},
    "extensions": {
        "cost": {
            "requestedQueryCost": 1,
            "actualQueryCost": 1,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1999, "restoreRate": 100.0},
        }
    },
}
THROTTLED = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ],
    "extensions": {
        "cost": {
            "requestedQueryCost": 752,
            "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 666, "restoreRate": 50.0},
        }
    },
}


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def shopify(httpserver):
    """pytest-httpserver's shared server (one per session, cleared after each test)."""
    return httpserver


def client_for(server, sleeps, **options):
    return AdminClient(
        shop="demo-shop.myshopify.com",
        access_token="shpat_secret_value",
        base_url_template=server.url_for(""),
        api_version="2026-10",
        sleep=sleeps,
        **options,
    )


def respond_in_turn(server, path, answers):
    """Answer the n-th request with answers[n] (the last one repeats); returns the request log."""
    seen = []

    def handler(request):
        seen.append(request)
        status, body, headers = answers[min(len(seen) - 1, len(answers) - 1)]
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    server.expect_request(path).respond_with_handler(handler)
    return seen


def test_a_graphql_query_sends_the_token_header_and_returns_the_data(shopify):
    seen = respond_in_turn(shopify, GRAPHQL, [(200, OK, {})])
    sleeps = Sleeps()
    response = client_for(shopify, sleeps).graphql("{ shop { name } }")
    assert response.body["data"]["shop"]["name"] == "Demo Shop"
    assert response.throttle.currently_available == 1999
    request = seen[0]
    assert request.method == "POST"
    assert request.headers["X-Shopify-Access-Token"] == "shpat_secret_value"
    assert json.loads(request.get_data()) == {"query": "{ shop { name } }"}
    assert sleeps == []


def test_the_token_check_reads_the_shop_name(shopify):
    respond_in_turn(shopify, GRAPHQL, [(200, OK, {})])
    assert client_for(shopify, Sleeps()).check_token() == "Demo Shop"


def test_5xx_is_retried_with_the_backoff_until_it_succeeds(shopify):
    seen = respond_in_turn(shopify, GRAPHQL, [(502, {"errors": "bad gateway"}, {}), (503, {}, {}), (200, OK, {})])
    sleeps = Sleeps()
    response = client_for(shopify, sleeps).graphql("{ shop { name } }")
    assert (response.attempts, len(seen)) == (3, 3)
    assert 0.3 <= sleeps[0] <= 0.33 and 0.6 <= sleeps[1] <= 0.66


def test_5xx_five_times_spends_the_budget_300_600_1200_2400(shopify):
    seen = respond_in_turn(shopify, GRAPHQL, [(500, {}, {})])
    sleeps = Sleeps()
    with pytest.raises(RetryBudgetSpent) as caught:
        client_for(shopify, sleeps).graphql("{ shop { name } }")
    assert len(seen) == 5
    assert caught.value.status_code == 500 and caught.value.attempts == 5
    assert "HTTP 500 after 5 attempts" in str(caught.value)
    for wait, base in zip(sleeps, [0.3, 0.6, 1.2, 2.4], strict=True):
        assert base <= wait <= base * 1.1


def test_network_errors_are_retried_and_then_reported():
    sleeps = Sleeps()
    client = AdminClient(
        shop="demo-shop.myshopify.com",
        access_token="shpat_secret_value",
        base_url_template=f"http://127.0.0.1:{free_port()}",
        sleep=sleeps,
        budget=RetryBudget(retries=2),
    )
    with pytest.raises(RetryBudgetSpent) as caught:
        client.rest("GET", "shop")
    assert "network error (ConnectError) after 3 attempts" in str(caught.value)
    assert "shpat_secret_value" not in str(caught.value)
    assert len(sleeps) == 2


def test_429_waits_for_retry_after_before_the_next_try(shopify):
    seen = respond_in_turn(
        shopify,
        "/admin/api/2026-10/shop.json",
        [(429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "2.0"}), (200, {}, {})],
    )
    sleeps = Sleeps()
    response = client_for(shopify, sleeps).rest("GET", "shop")
    assert response.status_code == 200 and len(seen) == 2
    assert 2.0 <= sleeps[0] <= 2.2


def test_a_long_retry_after_is_capped_by_the_budget(shopify):
    respond_in_turn(shopify, "/admin/api/2026-10/shop.json", [(429, {}, {"Retry-After": "120"}), (200, {}, {})])
    sleeps = Sleeps()
    client_for(shopify, sleeps, budget=RetryBudget(retry_after_cap_s=10)).rest("GET", "shop")
    assert 10 <= sleeps[0] <= 11


def test_graphql_throttled_waits_until_the_bucket_holds_the_requested_cost(shopify):
    seen = respond_in_turn(shopify, GRAPHQL, [(200, THROTTLED, {}), (200, OK, {})])
    sleeps = Sleeps()
    response = client_for(shopify, sleeps).graphql("{ products(first: 250) { nodes { id } } }")
    assert response.body["data"] and len(seen) == 2
    # (752 requested - 666 available) / 50 restored per second = 1.72 s
    assert 1.72 <= sleeps[0] <= 1.72 * 1.1


def test_throttled_every_time_spends_the_budget(shopify):
    respond_in_turn(shopify, GRAPHQL, [(200, THROTTLED, {})])
    with pytest.raises(RetryBudgetSpent, match="GraphQL THROTTLED after 5 attempts"):
        client_for(shopify, Sleeps()).graphql("{ shop { name } }")


def test_the_throttle_wait_is_zero_when_the_bucket_already_holds_enough():
    status = ThrottleStatus.from_extensions(OK["extensions"])
    assert status.wait_s() == 0
    assert ThrottleStatus.from_extensions({"cost": "nonsense"}) is None


def test_401_calls_the_hook_and_raises_without_retrying(shopify):
    seen = respond_in_turn(
        shopify,
        GRAPHQL,
        [(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, {})],
    )
    hooked = []
    sleeps = Sleeps()
    with pytest.raises(Unauthorized) as caught:
        client_for(shopify, sleeps, on_unauthorized=lambda: hooked.append(1)).graphql("{ shop { name } }")
    assert caught.value.status_code == 401
    assert (len(seen), hooked, sleeps) == (1, [1], [])


def test_other_4xx_raise_without_retrying(shopify):
    seen = respond_in_turn(shopify, "/admin/api/2026-10/orders/1.json", [(404, {"errors": "Not Found"}, {})])
    with pytest.raises(AdminAPIError) as caught:
        client_for(shopify, Sleeps()).rest("GET", "/orders/1.json")
    assert caught.value.status_code == 404 and len(seen) == 1
    assert "Not Found" in str(caught.value)


def test_graphql_errors_other_than_throttling_are_not_retried(shopify):
    seen = respond_in_turn(
        shopify, GRAPHQL, [(200, {"errors": [{"message": "Field 'nope' doesn't exist on type 'Shop'"}]}, {})]
    )
    with pytest.raises(GraphQLError, match="doesn't exist") as caught:
        client_for(shopify, Sleeps()).graphql("{ shop { nope } }")
    assert len(seen) == 1 and caught.value.errors


def test_rest_sends_json_and_query_parameters(shopify):
    seen = respond_in_turn(shopify, "/admin/api/2026-10/webhooks.json", [(201, {"webhook": {"id": 1}}, {})])
    response = client_for(shopify, Sleeps()).rest(
        "post", "webhooks", params={"fields": "id"}, json_body={"webhook": {"topic": "app/uninstalled"}}
    )
    assert response.status_code == 201 and response.body == {"webhook": {"id": 1}}
    assert seen[0].args["fields"] == "id"
    assert json.loads(seen[0].get_data()) == {"webhook": {"topic": "app/uninstalled"}}


# --------------------------------------------------------------------------- refresh grant

REFRESHED = {
    "access_token": "shpat_new",
    "expires_in": 3600,
    "refresh_token": "shprt_new",
    "refresh_token_expires_in": 7776000,
    "scope": "read_products,write_products",
}


def refresh(server, sleeps):
    return refresh_access_token(
        shop="demo-shop.myshopify.com",
        refresh_token="shprt_old",
        client_id="client-id",
        client_secret="client-secret",
        base_url_template=server.url_for(""),
        sleep=sleeps,
    )


def test_the_refresh_grant_posts_the_documented_fields(shopify):
    seen = respond_in_turn(shopify, "/admin/oauth/access_token", [(200, REFRESHED, {})])
    grant = refresh(shopify, Sleeps())
    assert json.loads(seen[0].get_data()) == {
        "client_id": "client-id",
        "client_secret": "client-secret",
        "grant_type": "refresh_token",
        "refresh_token": "shprt_old",
    }
    assert grant == TokenGrant("shpat_new", "read_products,write_products", 3600, "shprt_new", 7776000)
    assert "shpat_new" not in repr(grant) and "shprt_new" not in repr(grant)


def test_a_refused_refresh_raises_with_shopifys_reason(shopify):
    respond_in_turn(
        shopify,
        "/admin/oauth/access_token",
        [(400, {"error": "invalid_grant", "error_description": "The refresh token is invalid or expired"}, {})],
    )
    with pytest.raises(TokenRefreshError, match="invalid_grant The refresh token is invalid"):
        refresh(shopify, Sleeps())


def test_a_refresh_is_retried_on_5xx(shopify):
    seen = respond_in_turn(shopify, "/admin/oauth/access_token", [(503, {}, {}), (200, REFRESHED, {})])
    sleeps = Sleeps()
    assert refresh(shopify, sleeps).access_token == "shpat_new"
    assert len(seen) == 2 and len(sleeps) == 1


def test_a_non_expiring_grant_has_no_expiry():
    grant = TokenGrant.from_json({"access_token": "shpat_x", "scope": "read_orders"})
    assert (grant.expires_in, grant.refresh_token) == (None, None)
    with pytest.raises(AdminAPIError):
        TokenGrant.from_json({"scope": "read_orders"})
