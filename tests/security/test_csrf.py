"""CSRF: an operator's browser session cannot be used by another site to change anything.

With CSRF checks enforced (as in a real browser), every POST to every URL of the project that
is not a token- or HMAC-authenticated machine endpoint is refused without the token, and the
same POST with the token goes through.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import make_user
from tests.security.snapshot import differences, snapshot
from tests.security.urlsweep import admin_paths, project_routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    return client


def test_every_post_without_the_csrf_token_is_refused(world, browser):
    superuser = Client(enforce_csrf_checks=True)
    superuser.force_login(make_user("ada", role="operator", superuser=True))
    before = snapshot()
    for route in project_routes():
        if route.csrf_exempt:
            continue
        path = world.path(route)
        response = browser.post(path, {"confirm": "1"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 403, (path, response.status_code)
        assert b"CSRF" in response.content, path
    for _name, path in admin_paths(world):
        response = superuser.post(path)
        assert response.status_code == 403 and b"CSRF" in response.content, path
    assert differences(before, snapshot()) == []


def test_the_same_post_with_the_token_goes_through(world, browser):
    from deadletters.models import DeadLetter

    letter = world.objects[DeadLetter]
    page = browser.get(f"/deadletters/{letter.pk}/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else browser.cookies["csrftoken"].value
    assert browser.post(f"/deadletters/{letter.pk}/replay/").status_code == 403
    response = browser.post(f"/deadletters/{letter.pk}/replay/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code in (200, 302)
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYING
