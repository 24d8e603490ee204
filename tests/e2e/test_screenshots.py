"""Every page in a real browser on demo data (manage.py seed_demo): each renders its data without a
JavaScript error or a content-security-policy violation.

With TIMEDIFY_SCREENSHOTS=<directory> it also writes one PNG per page (1360×900) there, from the
full demo week; the README's pictures are made so:

    TIMEDIFY_SCREENSHOTS=docs/screenshots python3 scripts/dev.py test tests/e2e/test_screenshots.py

Without it, a smaller seed keeps the test quick.
"""

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from dashboard.slo.models import SloDailyReport
from deadletters.models import BulkAction, DeadLetter
from demo import seed as demo
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("TIMEDIFY_SCREENSHOTS")
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def demo_week(settings):
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    # The pictures show the whole week; the everyday run a shorter one (the same code, a quarter of the rows).
    if SHOTS:
        demo.seed(events=12_000, days=7)
    else:
        demo.seed(events=2_000, days=2)
    demo.ensure_logins(password="pw-demo")


def pages() -> list[tuple[str, str, str]]:
    """(file name, path, a selector that is there once the page shows its data)."""
    # A dead letter with a history: its original attempts, a replay that failed again, the audit entry.
    letter = (
        DeadLetter.objects.filter(status="failed", replay_count__gt=0).order_by("-event__attempts").first()
        or DeadLetter.objects.order_by("-created_at").first()
    )
    bulk = BulkAction.objects.order_by("-created_at").first()
    reports = list(SloDailyReport.objects.order_by("-date"))
    report = next((report for report in reports if report.incidents), reports[0])
    found = [
        ("overview", "/", "[data-count=received]"),
        ("deadletters", "/deadletters/", "table"),
        ("deadletter-detail", f"/deadletters/{letter.pk}/", "h1"),
        ("status", "/status/", "#latency-chart canvas"),
        ("schedules", "/schedules/", "#retention-summary"),
        ("slo", "/slo/?range=7d", "#chart-traffic[data-rendered=true] canvas"),
        ("slo-daily", "/slo/daily/", "td[data-slo=error_rate]"),
        ("slo-daily-detail", f"/slo/daily/{report.date:%Y-%m-%d}/", "h1"),
        ("logs", "/logs/", "#log-lines .log-line"),
        ("alerts", "/alerts/", "h1"),
        ("shops", "/shops/", "table"),
        ("synthetic", "/shops/synthetic/", "h1"),
        ("audit", "/audit/", "table"),
        ("runbook", "/runbook/", "h1"),
    ]
    if bulk is not None:
        found.insert(3, ("bulk-replay", f"/deadletters/bulk/{bulk.pk}/", "h1"))
    return found


def shoot(page, name: str) -> None:
    if SHOTS:
        directory = Path(SHOTS) if Path(SHOTS).is_absolute() else ROOT / SHOTS
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(directory / f"{name}.png"))


def test_every_page_shows_the_demo_week_without_a_script_error(page, live_server, demo_week):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "demo")
    shoot(page, "login")
    login(page, live_server, "demo")
    for name, path, ready in pages():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        page.wait_for_selector(ready, timeout=15_000)
        shoot(page, name)
        assert page.errors == [], f"{path}: {page.errors}"
