import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # SiteConfiguration is cached per process; a test that changes it must not leak it.
    cache.clear()
    yield
    cache.clear()
