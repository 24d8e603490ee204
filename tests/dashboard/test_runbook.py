import pytest

pytestmark = pytest.mark.django_db


def test_the_runbook_is_readable_inside_the_app(viewer_client):
    response = viewer_client.get("/runbook/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1" in content and "Runbook" in content
    assert 'id="first-five-minutes-whatever-fired"' in content  # headings have anchors
    assert "<table>" in content
    assert 'href="/runbook/cron-jobs/"' in content  # links between the documents stay inside the app


def test_the_runbook_needs_login(anonymous_client):
    assert anonymous_client.get("/runbook/").status_code == 302


def test_an_unknown_document_is_a_404(viewer_client):
    assert viewer_client.get("/runbook/secrets/").status_code == 404


def test_every_command_the_runbook_names_exists():
    """The runbook tells people what to type at 3 a.m.: every `manage.py X` must be real."""
    import re
    from pathlib import Path

    from django.core.management import get_commands

    text = (Path(__file__).resolve().parents[2] / "docs" / "RUNBOOK.md").read_text()
    named = set(re.findall(r"manage\.py ([a-z_]+)", text))
    assert named, "the runbook names commands"
    missing = sorted(named - set(get_commands()))
    assert missing == []
