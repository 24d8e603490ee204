import pytest


@pytest.fixture(autouse=True)
def no_rest_between_batches(settings):
    """Tests are about what is deleted; one test looks at the rest between batches itself."""
    settings.RETENTION_DUTY_PERCENT = 100
