"""Every URL in the URL conf, as each persona: anonymous users reach only /health, /login/, the
ingress, the log ingest and /metrics (with their credentials); viewers read every page and
change nothing; an account without a role sees nothing.

The routes come from the URL conf itself (tests/security/urlsweep.py), so a page added later is
swept without touching this file.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.conftest import make_user, shopify_headers, webhook_body
from tests.security.snapshot import differences, snapshot
from tests.security.urlsweep import ACCOUNT, CSRF_EXEMPT, PUBLIC, admin_paths, project_routes

pytestmark = pytest.mark.django_db


def test_the_url_conf_opens_only_the_known_public_views():
    assert {route.name for route in project_routes() if not route.login_required} == set(PUBLIC)


def test_the_only_views_without_csrf_protection_are_the_machine_endpoints():
    assert {route.name for route in project_routes() if route.csrf_exempt} == CSRF_EXEMPT


def test_every_url_parameter_is_filled_from_a_real_object(world):
    missing = [route.route for route in project_routes() if world.path(route) is None]
    assert missing == [], "give these routes a real object in tests/security/world.py"


def test_anonymous_users_are_sent_to_the_login_from_every_other_url(world, anonymous_client):
    before = snapshot()
    for route in project_routes():
        if route.public:
            continue
        path = world.fallback_path(route)
        for method in (anonymous_client.get, anonymous_client.post):
            response = method(path)
            assert response.status_code == 302, (method.__name__, path, response.status_code)
            assert response["Location"].startswith("/login/?next="), (path, response["Location"])
    for name, path in admin_paths(world):
        if name == "admin:login":
            continue  # the admin's own login form
        for method in (anonymous_client.get, anonymous_client.post):
            response = method(path)
            assert response.status_code == 302, (method.__name__, path, response.status_code)
            assert response["Location"].startswith(("/login/?next=", "/admin/login/")), (path, response["Location"])
    assert differences(before, snapshot()) == []


def test_the_public_endpoints_want_their_credentials(anonymous_client):
    health = anonymous_client.get("/health")
    assert health.status_code in (200, 503) and set(health.json()) == {"status", "checks"}
    assert anonymous_client.get("/login/").status_code == 200

    assert anonymous_client.get("/metrics").status_code == 401
    assert anonymous_client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert anonymous_client.post("/metrics").status_code in (401, 405)
    token = django_settings.METRICS_TOKEN
    assert anonymous_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    for path in ("/webhooks/shopify", "/webhooks/app/uninstalled"):
        assert anonymous_client.get(path).status_code == 405
        body = webhook_body()
        unsigned = {k: v for k, v in shopify_headers(body).items() if not k.endswith("HMAC_SHA256")}
        assert anonymous_client.post(path, data=body, content_type="application/json", **unsigned).status_code == 401
        forged = shopify_headers(body, secret="not-the-app-secret")
        assert anonymous_client.post(path, data=body, content_type="application/json", **forged).status_code == 401

    assert anonymous_client.get("/logs/ingest").status_code == 405
    assert anonymous_client.post("/logs/ingest", data="[]", content_type="application/json").status_code == 401
    wrong = {"HTTP_AUTHORIZATION": "Bearer wrong"}
    assert anonymous_client.post("/logs/ingest", data="[]", content_type="application/json", **wrong).status_code == 401

    for path in ("/heartbeats/nightly-backup", "/heartbeats/nightly-backup/start", "/heartbeats/nightly-backup/fail"):
        assert anonymous_client.get(path).status_code == 405
        assert anonymous_client.post(path).status_code == 401
        assert anonymous_client.post(path, **wrong).status_code == 401
        # An unknown name is not told apart from a known one without the token.
        assert anonymous_client.post(path.replace("nightly-backup", "no-such-job")).status_code == 401


def test_a_viewer_reads_every_page_and_gets_it_without_a_server_error(world, viewer_client, operator_client):
    before = snapshot()
    for route in project_routes():
        if route.csrf_exempt:
            continue  # machine endpoints, covered above
        path = world.path(route)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = viewer_client.get(path, **headers)
            if route.name in ACCOUNT:
                assert response.status_code in (200, 302, 405), (path, response.status_code)
            elif route.name == "metrics":
                assert response.status_code == 401  # the token, not a session, opens /metrics
            elif response.status_code == 403:
                # A page that only leads to an operator action (the bulk preview): the operator's.
                assert operator_client.get(path, **headers).status_code in (200, 302), path
            else:
                # 405: a POST-only action. Never a 5xx.
                assert response.status_code in (200, 405), (path, headers, response.status_code)
    assert differences(before, snapshot()) == [], "a GET changed something"


def test_a_viewer_gets_403_on_every_change_and_changes_nothing(world, viewer_client, operator_client):
    before = snapshot()
    refused = []
    for route in project_routes():
        if route.public or route.name in ACCOUNT:
            continue
        path = world.path(route)
        response = viewer_client.post(path, {"confirm": "1", "action": "replay", "expected": "1", "rate": "10"})
        if response.status_code == 405:
            # A view that takes no POST at all is a read, not a change: an operator gets 405 too.
            assert operator_client.post(path).status_code == 405, path
            continue
        assert response.status_code == 403, (path, response.status_code)
        refused.append(route.name)
    for name, path in admin_paths(world):
        if name in ACCOUNT:
            continue
        response = viewer_client.post(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), (path, response)
    assert differences(before, snapshot()) == []
    # The operator actions the product has today (more join by themselves as they are added).
    assert {
        "deadletters:replay",
        "deadletters:delete",
        "deadletters:bulk_confirm",
        "deadletters:bulk_cancel",
        "shop_check",
        "shops_synthetic_send",
        "schedule-run",
        "schedule-pause",
        "schedule-resume",
    } <= set(refused)


def test_an_account_without_a_role_sees_nothing(world):
    client = Client()
    client.force_login(make_user("nora", role=None))
    for route in project_routes():
        if route.public or route.name in ACCOUNT:
            continue
        assert client.get(world.path(route)).status_code == 403, route.route
