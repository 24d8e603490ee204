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
    assert viewer_client.get("/runbook/nothing-here/").status_code == 404


@pytest.mark.parametrize(("doc", "heading"), [("backups", "Backups and restores"), ("secrets", "Secrets")])
def test_backups_and_secrets_are_runbook_pages(viewer_client, doc, heading):
    response = viewer_client.get(f"/runbook/{doc}/")
    assert response.status_code == 200
    assert heading in response.content.decode()


def test_the_runbook_shows_the_escalation_table_the_team_fills_in(viewer_client):
    content = viewer_client.get("/runbook/").content.decode()
    assert 'id="escalation"' in content
    for column in ("who", "for", "how to reach them", "move on after"):
        assert f"<th>{column}</th>" in content
    assert 'href="/runbook/backups/"' in content and 'href="/runbook/secrets/"' in content


def test_the_runbook_has_the_memory_step_and_the_dead_letter_list():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "RUNBOOK.md").read_text()
    assert "fly scale memory 512 --app <app>" in text and "oom_killed=true" in text
    assert "replay_deadletters --list" in text


def test_every_command_the_runbook_names_exists():
    """The runbook tells people what to type at 3 a.m.: every `manage.py X` must be real."""
    import re
    from pathlib import Path

    from django.core.management import get_commands

    docs = Path(__file__).resolve().parents[2] / "docs"
    text = "".join((docs / name).read_text() for name in ("RUNBOOK.md", "BACKUPS.md", "SECRETS.md", "CRON_JOBS.md"))
    named = set(re.findall(r"manage\.py ([a-z_]+)", text))
    assert named, "the runbook names commands"
    missing = sorted(named - set(get_commands()))
    assert missing == []
