"""The security sweep's world: real objects behind every URL parameter, and secrets to look for."""

from __future__ import annotations

import pytest

from tests.security.world import build_world


@pytest.fixture
def world(settings, target, fast_budget, operator, empty_queue):
    return build_world(settings=settings, target=target, operator=operator)
