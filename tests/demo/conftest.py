"""Fixtures for the demo: a token key for the seeded shops, and the demo app on a free port."""

import pytest
from cryptography.fernet import Fernet

from demo.receiver import Behaviour, DemoApp, Receiver


@pytest.fixture
def token_key(settings):
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    return settings.TOKEN_ENCRYPTION_KEY


@pytest.fixture
def demo_app():
    """The demo's Shopify app on 127.0.0.1 (a free port), never misbehaving unless a test says so."""
    receiver = Receiver(DemoApp(secret="shpss_test_current_secret", behaviour=Behaviour.calm(), seed=1), port=0)
    receiver.start()
    yield receiver
    receiver.stop()
