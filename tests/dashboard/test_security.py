"""Security defaults: the content security policy, login throttling, secure production settings."""

import pytest

pytestmark = pytest.mark.django_db


def test_every_page_carries_a_strict_content_security_policy(viewer_client):
    policy = viewer_client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_templates_carry_no_inline_script_or_style():
    """The policy forbids them; a template that slipped one in would break in the browser."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            offenders.append(f"{path.name}: inline <script>")
        if re.search(r"\sstyle=|\son[a-z]+=|hx-on", text):
            offenders.append(f"{path.name}: style=/on*=/hx-on attribute")
    assert offenders == []


def test_a_login_is_locked_after_repeated_failures(anonymous_client, viewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        anonymous_client.post("/login/", {"username": "victor", "password": "wrong"})
    locked = anonymous_client.post("/login/", {"username": "victor", "password": "pw-victor"})
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content


def test_the_lock_is_per_address(anonymous_client, viewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        anonymous_client.post("/login/", {"username": "victor", "password": "wrong"}, HTTP_FLY_CLIENT_IP="203.0.113.7")
    elsewhere = anonymous_client.post(
        "/login/", {"username": "victor", "password": "pw-victor"}, HTTP_FLY_CLIENT_IP="198.51.100.9"
    )
    assert elsewhere.status_code == 302


def test_a_success_resets_the_failure_count(anonymous_client, viewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        anonymous_client.post("/login/", {"username": "victor", "password": "wrong"})
    assert anonymous_client.post("/login/", {"username": "victor", "password": "pw-victor"}).status_code == 302
    anonymous_client.post("/logout/")
    anonymous_client.post("/login/", {"username": "victor", "password": "wrong"})
    assert anonymous_client.post("/login/", {"username": "victor", "password": "pw-victor"}).status_code == 302
