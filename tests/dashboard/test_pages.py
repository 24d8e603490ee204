"""Login, roles and the pages of the foundation: overview and audit."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from deadletters.models import DeadLetter
from tests.conftest import make_user
from timedify_ops.audit.models import AuditEntry
from timedify_ops.audit.services import record_audit
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def make_event(webhook_id: str, **fields) -> WebhookEvent:
    defaults = {"topic": "app/uninstalled", "shop_domain": "a.myshopify.com", "body": b"{}"}
    return WebhookEvent.objects.create(webhook_id=webhook_id, **{**defaults, **fields})


def test_the_roles_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "operator"}


@pytest.mark.parametrize("path", ["/", "/audit/"])
def test_pages_need_login(anonymous_client, path):
    response = anonymous_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_an_account_without_a_role_is_refused(roleless):
    from django.test import Client

    client = Client()
    client.force_login(roleless)
    response = client.get("/")
    assert response.status_code == 403
    assert b"no role yet" in response.content


def test_the_login_page_logs_in_and_out(anonymous_client, viewer):
    page = anonymous_client.get("/login/")
    assert page.status_code == 200
    assert b'name="password"' in page.content
    response = anonymous_client.post("/login/", {"username": "victor", "password": "pw-victor"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert anonymous_client.get("/").status_code == 200
    assert anonymous_client.post("/logout/").status_code == 302
    assert anonymous_client.get("/").status_code == 302


def test_a_wrong_password_is_explained(anonymous_client, viewer):
    response = anonymous_client.post("/login/", {"username": "victor", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_the_overview_counts_today(viewer_client):
    now = timezone.now()
    make_event("a", received_at=now, status="delivered", delivered_at=now)
    make_event("b", received_at=now)
    old = make_event("c", received_at=now - timezone.timedelta(days=2), status="dead_lettered")
    dead = make_event("d", received_at=now, status="dead_lettered")
    DeadLetter.objects.create(event=dead, reason="HTTP 500", topic=dead.topic, shop_domain=dead.shop_domain)
    DeadLetter.objects.create(
        event=old,
        reason="HTTP 500",
        topic=old.topic,
        shop_domain=old.shop_domain,
        created_at=now - timezone.timedelta(days=2),
    )
    response = viewer_client.get("/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts.received, counts.delivered, counts.dead_lettered, counts.open_dead_letters) == (3, 1, 1, 2)
    assert b'data-count="received">3<' in response.content


def test_the_overview_poll_gets_only_the_tiles(viewer_client):
    response = viewer_client.get("/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'id="today"' in response.content
    assert b"<html" not in response.content


def test_the_overview_shows_the_sections_that_exist(viewer_client):
    content = viewer_client.get("/").content.decode()
    assert 'href="/audit/"' in content
    assert "victor · viewer" in content


def test_an_operator_is_labelled_as_such(operator_client):
    assert "olivia · operator" in operator_client.get("/").content.decode()


def test_the_audit_page_lists_entries_newest_first_with_keyset_pages(viewer_client, operator, monkeypatch):
    from dashboard import views

    monkeypatch.setattr(views, "AUDIT_PAGE_SIZE", 2)
    for n in range(3):
        record_audit(operator, "deadletter.replay", target_type="deadletter", target_id=n, summary=f"replay {n}")
    first = viewer_client.get("/audit/")
    assert [e.target_id for e in first.context["page"].items] == ["2", "1"]
    cursor = first.context["page"].next_cursor
    second = viewer_client.get("/audit/", {"after": cursor})
    assert [e.target_id for e in second.context["page"].items] == ["0"]
    assert not second.context["page"].has_next


def test_the_audit_page_filters_and_survives_a_bad_cursor(viewer_client, operator):
    record_audit(operator, "deadletter.delete", summary="deleted 1")
    record_audit(operator, "schedule.run_now", summary="ran")
    response = viewer_client.get("/audit/", {"action": "schedule.", "after": "garbage"})
    assert response.status_code == 200
    assert [e.action for e in response.context["page"].items] == ["schedule.run_now"]
    assert b"cursor is malformed" in response.content


def test_an_audit_entry_keeps_the_name_of_a_deleted_user():
    user = make_user("temp", role="operator")
    entry = record_audit(user, "alert.acknowledge", target_id=5)
    user.delete()
    entry.refresh_from_db()
    assert entry.actor is None and entry.actor_name == "temp"
    assert AuditEntry.objects.count() == 1
