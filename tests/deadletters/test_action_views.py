"""Replay and Delete buttons: POST + CSRF, operators only, answered in place for htmx."""

import pytest
from django.test import Client

from deadletters.models import DeadLetter
from tests.conftest import queued_tasks
from tests.deadletters.conftest import make_dead_letter
from timedify_ops.audit.models import AuditEntry
from webhooks.models import DeliveryAttempt, WebhookEvent

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize("action", ["replay", "delete"])
def test_actions_refuse_get(operator_client, action):
    letter = make_dead_letter()
    assert operator_client.get(f"/deadletters/{letter.pk}/{action}/").status_code == 405


@pytest.mark.parametrize("action", ["replay", "delete"])
def test_a_viewer_gets_403_on_a_forged_post(viewer_client, action, empty_queue):
    letter = make_dead_letter()
    response = viewer_client.post(f"/deadletters/{letter.pk}/{action}/")
    assert response.status_code == 403
    assert DeadLetter.objects.get(pk=letter.pk).status == "open"
    assert queued_tasks() == [] and not AuditEntry.objects.exists()


@pytest.mark.parametrize("action", ["replay", "delete"])
def test_actions_need_the_csrf_token(operator, action):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    letter = make_dead_letter()
    assert client.post(f"/deadletters/{letter.pk}/{action}/").status_code == 403
    assert DeadLetter.objects.filter(pk=letter.pk, status="open").exists()


def test_replay_from_the_list_answers_with_the_row_polling_until_it_settles(operator_client, empty_queue):
    letter = make_dead_letter()
    response = operator_client.post(f"/deadletters/{letter.pk}/replay/", {"next": "/deadletters/?topic=x"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="dl-{letter.pk}" data-status="replaying"')
    assert f'hx-get="/deadletters/{letter.pk}/row/"' in html and 'hx-trigger="every 1s"' in html
    assert "/replay/" not in html and "/delete/" not in html  # no actions while in flight
    assert [t["args"][0] for t in queued_tasks()] == [letter.pk]


def test_a_second_click_is_told_the_replay_is_already_running(operator_client, empty_queue):
    letter = make_dead_letter()
    operator_client.post(f"/deadletters/{letter.pk}/replay/", **HTMX)
    again = operator_client.post(f"/deadletters/{letter.pk}/replay/", **HTMX)
    assert "Not replayed: it is replaying." in again.content.decode()
    assert len(queued_tasks()) == 1


def test_replay_without_htmx_redirects_with_a_message(operator_client, empty_queue):
    letter = make_dead_letter()
    response = operator_client.post(f"/deadletters/{letter.pk}/replay/", {"next": "/deadletters/?status=open"})
    assert response.status_code == 302 and response["Location"] == "/deadletters/?status=open"
    follow = operator_client.get(response["Location"])
    assert f"Dead letter {letter.pk}: replay queued." in follow.content.decode()
    # An off-site "next" is ignored.
    other = make_dead_letter()
    response = operator_client.post(f"/deadletters/{other.pk}/replay/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/deadletters/{other.pk}/"


def test_replay_from_the_detail_answers_with_its_live_section(operator_client, empty_queue):
    letter = make_dead_letter()
    html = operator_client.post(f"/deadletters/{letter.pk}/replay/", {"partial": "detail"}, **HTMX).content.decode()
    assert html.strip().startswith('<div id="live" data-status="replaying"')
    assert "deadletter.replay" in html  # the new audit entry is already listed


def test_replaying_an_unknown_letter_is_404(operator_client):
    assert operator_client.post("/deadletters/99999/replay/").status_code == 404


def test_delete_from_the_list_removes_the_row_the_event_and_the_attempts(operator_client, operator):
    letter = make_dead_letter(attempts=3, topic="shop/redact", shop="gone.myshopify.com", webhook_id="wh-bye")
    response = operator_client.post(f"/deadletters/{letter.pk}/delete/", **HTMX)
    assert response.status_code == 200 and response.content == b""
    assert not DeadLetter.objects.filter(pk=letter.pk).exists()
    assert not WebhookEvent.objects.filter(pk=letter.event_id).exists()
    assert not DeliveryAttempt.objects.exists()
    entry = AuditEntry.objects.get(action="deadletter.delete")
    assert entry.actor == operator and entry.target_id == str(letter.pk)
    assert entry.details == {
        "id": letter.pk,
        "topic": "shop/redact",
        "shop": "gone.myshopify.com",
        "webhook_id": "wh-bye",
        "status": "open",
    }


def test_delete_from_the_detail_page_goes_back_to_the_list(operator_client):
    letter = make_dead_letter()
    response = operator_client.post(f"/deadletters/{letter.pk}/delete/", {"partial": "detail"}, **HTMX)
    assert response.headers["HX-Redirect"] == "/deadletters/"
    other = make_dead_letter()
    response = operator_client.post(f"/deadletters/{other.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/deadletters/"
    assert "Deleted dead letter" in operator_client.get("/deadletters/").content.decode()


def test_a_letter_whose_replay_is_in_flight_is_not_deleted(operator_client):
    letter = make_dead_letter(status="replaying")
    html = operator_client.post(f"/deadletters/{letter.pk}/delete/", **HTMX).content.decode()
    assert "Not deleted: its replay is in flight." in html
    assert DeadLetter.objects.filter(pk=letter.pk).exists()
    assert not AuditEntry.objects.exists()
