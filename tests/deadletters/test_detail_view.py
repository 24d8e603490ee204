"""/deadletters/<id>/: payload, headers, attempt timeline, audit entries; the raw download."""

import json

import pytest

from deadletters import views
from tests.deadletters.conftest import make_dead_letter
from timedify_ops.audit.services import record_audit
from webhooks.models import DeliveryAttempt

pytestmark = pytest.mark.django_db


def test_the_detail_pretty_prints_a_json_body(viewer_client):
    letter = make_dead_letter(body=b'{"id":7,"customer":{"email":"a@example.com"}}')
    response = viewer_client.get(f"/deadletters/{letter.pk}/")
    assert response.status_code == 200
    assert response.context["body_is_json"] and not response.context["body_truncated"]
    html = response.content.decode()
    assert "{\n  &quot;id&quot;: 7,\n  &quot;customer&quot;: {\n    &quot;email&quot;" in html
    assert f'href="/deadletters/{letter.pk}/raw/"' in html


def test_a_body_that_is_not_json_is_shown_as_text(viewer_client):
    letter = make_dead_letter(body=b"not json <script>")
    response = viewer_client.get(f"/deadletters/{letter.pk}/")
    assert not response.context["body_is_json"]
    assert "not json &lt;script&gt;" in response.content.decode()


def test_a_large_body_is_truncated_with_the_download_offered(viewer_client, monkeypatch):
    monkeypatch.setattr(views, "BODY_PREVIEW_BYTES", 100)
    body = json.dumps({"items": list(range(200))}).encode()
    letter = make_dead_letter(body=body)
    response = viewer_client.get(f"/deadletters/{letter.pk}/")
    assert response.context["body_truncated"]
    assert len(response.context["body_text"]) == 100
    assert "Truncated for display" in response.content.decode()


def test_the_raw_body_downloads_byte_for_byte_for_a_viewer_too(viewer_client):
    body = b'{"id": 1,   "odd":"spacing"}'
    letter = make_dead_letter(body=body)
    response = viewer_client.get(f"/deadletters/{letter.pk}/raw/")
    assert response.status_code == 200
    assert response.content == body
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="dead-letter-{letter.pk}-body.json"'
    assert viewer_client.post(f"/deadletters/{letter.pk}/raw/").status_code == 405


def test_headers_are_shown_with_secrets_redacted(viewer_client):
    letter = make_dead_letter()
    letter.event.headers = {**letter.event.headers, "Authorization": "Bearer sekrit", "X-Trace": "t-1"}
    letter.event.save(update_fields=["headers"])
    html = viewer_client.get(f"/deadletters/{letter.pk}/").content.decode()
    assert "sekrit" not in html
    assert "X-Shopify-Hmac-Sha256" in html and "[redacted]" in html
    assert "t-1" in html


def test_the_timeline_lists_every_attempt_original_and_replay(viewer_client, operator):
    letter = make_dead_letter(attempts=2)
    DeliveryAttempt.objects.create(
        event=letter.event,
        number=3,
        started_at=letter.created_at,
        duration_ms=12.5,
        status_code=None,
        error="ConnectError: refused",
        is_replay=True,
        replayed_by=operator,
    )
    response = viewer_client.get(f"/deadletters/{letter.pk}/")
    assert [a.number for a in response.context["attempts"]] == [1, 2, 3]
    html = response.content.decode()
    assert "ConnectError: refused" in html and "replay by olivia" in html and "network error" in html


def test_the_audit_entries_for_this_letter_are_listed(viewer_client, operator):
    letter = make_dead_letter()
    record_audit(operator, "deadletter.replay", target_type="deadletter", target_id=letter.pk, summary="mine")
    record_audit(operator, "deadletter.replay", target_type="deadletter", target_id=letter.pk + 1, summary="other")
    html = viewer_client.get(f"/deadletters/{letter.pk}/").content.decode()
    assert "mine" in html and "other" not in html


def test_a_viewer_sees_no_actions_an_operator_does(viewer_client, operator_client):
    letter = make_dead_letter()
    assert "/replay/" not in viewer_client.get(f"/deadletters/{letter.pk}/").content.decode()
    html = operator_client.get(f"/deadletters/{letter.pk}/").content.decode()
    assert f'hx-post="/deadletters/{letter.pk}/replay/"' in html
    assert f'hx-post="/deadletters/{letter.pk}/delete/"' in html


def test_the_htmx_poll_gets_the_live_section_only(viewer_client):
    letter = make_dead_letter(status="replaying")
    html = viewer_client.get(f"/deadletters/{letter.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert html.strip().startswith('<div id="live" data-status="replaying"')
    assert 'hx-trigger="every 1s"' in html
    assert "<html" not in html


def test_an_unknown_letter_is_404(viewer_client):
    assert viewer_client.get("/deadletters/424242/").status_code == 404
