"""Offline tokens: encrypted at rest, refreshed shortly before expiry with Shopify's refresh-token
grant against a local server, one refresh for two workers asking at once."""

import json
import threading
import time
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.utils import timezone

from shops import crypto, services
from shops.models import Shop
from tests.shops.conftest import TOKEN_ENDPOINT, json_response, make_shop, refresh_answer

pytestmark = pytest.mark.django_db


def test_tokens_are_stored_encrypted_and_read_back():
    shop = make_shop(token="shpat_plain_secret", expires_in_s=3600, refresh="shprt_plain_secret")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM shops_shop WHERE id = %s", [shop.pk]
        )
        stored = " ".join(cursor.fetchone())
    assert "shpat_plain_secret" not in stored and "shprt_plain_secret" not in stored
    assert services.get_offline_token(shop) == "shpat_plain_secret"
    assert crypto.decrypt(shop.refresh_token_encrypted) == "shprt_plain_secret"


def test_storing_a_token_without_a_key_names_the_variable(settings):
    settings.TOKEN_ENCRYPTION_KEY = ""
    with pytest.raises(crypto.TokenKeyMissing, match="TOKEN_ENCRYPTION_KEY is not set"):
        make_shop()
    assert not Shop.objects.exists()


def test_the_previous_key_still_decrypts_after_a_rotation(settings):
    shop = make_shop(token="shpat_before_rotation")
    old_key = settings.TOKEN_ENCRYPTION_KEY
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEY_PREVIOUS = old_key
    assert services.get_offline_token(shop) == "shpat_before_rotation"
    rotated = crypto.reencrypt(shop.access_token_encrypted)
    settings.TOKEN_ENCRYPTION_KEY_PREVIOUS = ""
    assert crypto.decrypt(rotated) == "shpat_before_rotation"
    with pytest.raises(crypto.TokenDecryptError):
        crypto.decrypt(shop.access_token_encrypted)


def test_the_hourly_job_re_encrypts_tokens_under_the_new_key(settings):
    shop = make_shop(token="shpat_rotate_me", expires_in_s=3600, refresh="shprt_rotate_me")
    settings.TOKEN_ENCRYPTION_KEY_PREVIOUS = settings.TOKEN_ENCRYPTION_KEY
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    untouched = make_shop("already.myshopify.com")  # stored under the new key
    assert services.reencrypt_tokens() == 1
    assert services.reencrypt_tokens() == 0
    settings.TOKEN_ENCRYPTION_KEY_PREVIOUS = ""
    shop.refresh_from_db()
    assert services.get_offline_token(shop) == "shpat_rotate_me"
    assert crypto.decrypt(shop.refresh_token_encrypted) == "shprt_rotate_me"
    assert services.get_offline_token(untouched) == "shpat_old"


def test_a_non_expiring_token_is_returned_without_asking_shopify(shopify):
    shop = make_shop(token="shpat_forever")
    assert services.get_offline_token(shop) == "shpat_forever"
    assert services.get_offline_token("demo-shop.myshopify.com") == "shpat_forever"
    assert shopify.log == []


def test_a_token_far_from_expiry_is_returned_as_is(shopify):
    shop = make_shop(token="shpat_fresh", expires_in_s=3600)
    assert services.get_offline_token(shop) == "shpat_fresh"
    assert shopify.log == []


def test_a_token_inside_the_margin_is_refreshed_and_the_new_pair_stored(shopify):
    shopify.expect_request(TOKEN_ENDPOINT, method="POST").respond_with_response(json_response(refresh_answer()))
    shop = make_shop(token="shpat_old", expires_in_s=120, refresh="shprt_old")
    before = timezone.now()

    assert services.get_offline_token(shop) == "shpat_new"

    request, _ = shopify.log[0]
    assert json.loads(request.get_data()) == {
        "client_id": "test-client-id",
        "client_secret": "shpss_test_current_secret",
        "grant_type": "refresh_token",
        "refresh_token": "shprt_old",
    }
    shop.refresh_from_db()
    assert crypto.decrypt(shop.access_token_encrypted) == "shpat_new"
    assert crypto.decrypt(shop.refresh_token_encrypted) == "shprt_new"
    assert before + timedelta(seconds=3590) <= shop.access_token_expires_at <= timezone.now() + timedelta(seconds=3600)
    assert shop.refresh_token_expires_at >= before + timedelta(days=89)
    assert shop.scopes == "read_products,write_products"
    assert shop.token_refreshed_at is not None
    # The fresh token is used from now on without another request.
    assert services.get_offline_token(shop) == "shpat_new"
    assert len(shopify.log) == 1


def test_an_expired_token_is_refreshed_too(shopify):
    shopify.expect_request(TOKEN_ENDPOINT).respond_with_response(json_response(refresh_answer(access="shpat_again")))
    shop = make_shop(expires_in_s=-60)
    assert services.get_offline_token(shop) == "shpat_again"


def test_a_refused_refresh_marks_the_token_invalid(shopify, caplog):
    shopify.expect_request(TOKEN_ENDPOINT).respond_with_response(
        json_response({"error": "invalid_grant", "error_description": "The refresh token is invalid"}, status=400)
    )
    shop = make_shop(expires_in_s=60)
    with pytest.raises(services.TokenRefreshFailed, match="invalid_grant"):
        services.get_offline_token(shop)
    shop.refresh_from_db()
    assert shop.token_invalid_at is not None and "invalid_grant" in shop.token_error
    assert shop.token_state() == Shop.TokenState.INVALID
    assert shop in services.token_problems()
    with pytest.raises(services.TokenInvalid):
        services.get_offline_token(shop)
    assert len(shopify.log) == 1
    assert "shprt_old" not in caplog.text and "shpat_old" not in caplog.text


def test_an_unreachable_token_endpoint_keeps_the_still_valid_token(shopify):
    shopify.expect_request(TOKEN_ENDPOINT).respond_with_response(json_response({}, status=503))
    shop = make_shop(token="shpat_still_good", expires_in_s=60)
    assert services.get_offline_token(shop) == "shpat_still_good"
    assert len(shopify.log) == 5  # the whole retry budget
    shop.refresh_from_db()
    assert shop.token_invalid_at is None


def test_an_expired_token_that_cannot_be_refreshed_raises(shopify):
    shopify.expect_request(TOKEN_ENDPOINT).respond_with_response(json_response({}, status=503))
    shop = make_shop(expires_in_s=-1)
    with pytest.raises(services.TokenRefreshFailed, match="HTTP 503 after 5 attempts"):
        services.get_offline_token(shop)


def test_a_refresh_needs_the_client_id(shopify, settings):
    settings.SHOPIFY_API_KEY = ""
    shop = make_shop(expires_in_s=-1)
    with pytest.raises(services.TokenRefreshFailed, match="SHOPIFY_API_KEY is not set"):
        services.get_offline_token(shop)
    assert shopify.log == []


def test_uninstalled_and_tokenless_shops_have_no_token():
    shop = make_shop()
    Shop.objects.filter(pk=shop.pk).update(installed=False)
    with pytest.raises(services.ShopUninstalled):
        services.get_offline_token(shop)
    Shop.objects.create(domain="empty.myshopify.com")
    with pytest.raises(services.NoToken, match="import_offline_tokens"):
        services.get_offline_token("empty.myshopify.com")


def test_shop_domains_are_normalised_and_checked():
    assert services.normalise_domain(" https://Demo-Shop.myshopify.com/ ") == "demo-shop.myshopify.com"
    for bad in ("demo-shop.example.com", "", "x.myshopify.com.evil.test"):
        with pytest.raises(ValueError):
            services.normalise_domain(bad)


@pytest.mark.django_db(transaction=True)
def test_two_workers_asking_at_once_cause_exactly_one_refresh(shopify):
    """Both read the stale token; the row lock makes the second wait, then find the fresh pair."""
    refreshes = []

    def token_endpoint(request):
        refreshes.append(json.loads(request.get_data())["refresh_token"])
        time.sleep(0.5)  # hold the lock long enough for the other worker to be waiting on it
        return json_response(refresh_answer(access=f"shpat_new_{len(refreshes)}"))

    shopify.expect_request(TOKEN_ENDPOINT).respond_with_handler(token_endpoint)
    shop = make_shop(expires_in_s=30)
    start = threading.Barrier(2)
    tokens, errors = [], []

    def worker():
        from django.db import connection as thread_connection

        try:
            start.wait()
            tokens.append(services.get_offline_token(shop))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert refreshes == ["shprt_old"]
    assert tokens == ["shpat_new_1", "shpat_new_1"]
