"""GET /health: public, fast, database reachable and migrations applied, 200 or 503, nothing more."""

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from dashboard.health import services

pytestmark = pytest.mark.django_db


def test_a_healthy_process_answers_200_ok(anonymous_client):
    response = anonymous_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_it_needs_no_login_and_ignores_the_app_and_worker(anonymous_client, settings):
    # The app's own health endpoint refuses and no worker ever ran: /health is still ok, so Fly
    # does not restart a healthy web machine because of them.
    settings.APP_HEALTH_URL = "http://127.0.0.1:9/nothing-here"
    assert anonymous_client.get("/health").status_code == 200


def test_it_answers_head_and_refuses_post(anonymous_client):
    assert anonymous_client.head("/health").status_code == 200
    assert anonymous_client.post("/health").status_code == 405


def test_an_unapplied_migration_is_a_503(anonymous_client):
    MigrationRecorder.Migration.objects.filter(app="dashboard", name="0003_health").delete()
    response = anonymous_client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {"database": "ok", "migrations": "fail"}}


def test_a_passing_migrations_check_is_trusted_for_a_while_but_a_failure_never_is(anonymous_client, settings):
    settings.HEALTH_MIGRATIONS_CACHE_S = 3600
    recorder = MigrationRecorder.Migration.objects.filter(app="dashboard", name="0003_health")
    saved = list(recorder.values("app", "name", "applied"))
    recorder.delete()
    assert anonymous_client.get("/health").status_code == 503  # not cached
    MigrationRecorder.Migration.objects.create(**saved[0])
    assert anonymous_client.get("/health").status_code == 200  # checked again, now cached
    MigrationRecorder.Migration.objects.filter(app="dashboard", name="0003_health").delete()
    assert anonymous_client.get("/health").status_code == 200  # the cached pass
    services.reset_health_cache()
    assert anonymous_client.get("/health").status_code == 503


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_is_a_503_naming_only_the_checks(broken_database):
    response = Client().get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {"database": "fail", "migrations": "fail"}}


def test_it_is_exempt_from_the_https_redirect_that_everything_else_gets(settings, viewer):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new client loads the middleware with the setting on
    client.force_login(viewer)
    assert client.get("/health").status_code == 200
    response = client.get("/status/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert Client().get("/health/").status_code == 301  # the exemption is exact
