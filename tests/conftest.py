import datetime as dt

import pytest

from minsheng.core import clock


@pytest.fixture
def city(db):
    from tests.common.factories import make_city

    return make_city()


@pytest.fixture
def now():
    """Pin the clock for the test; returns a function that advances it."""
    start = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    clock.set_now(start)

    class Driver:
        def __call__(self) -> dt.datetime:
            return clock.now()

        def advance(self, **kw) -> dt.datetime:
            return clock.advance(dt.timedelta(**kw))

    yield Driver()
    clock.set_now(None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for attackers, not for building test users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
