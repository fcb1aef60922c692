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
def _holiday_schedules_read_afresh():
    """Each test reads the city's holiday schedules from its own database: a schedule one
    test saved (and rolled back) is never remembered by the next."""
    from minsheng.core import workdays

    workdays.forget()
    yield
    workdays.forget()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for attackers, not for building test users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _zero_touch_off(settings):
    """Cases without a category wait for a dispatcher unless a test turns zero-touch on
    (``settings.MINSHENG_AUTO_DISPATCH = True``), so that tests of the loop do not depend
    on what the classifier guesses."""
    settings.MINSHENG_AUTO_DISPATCH = False


@pytest.fixture(autouse=True)
def _sessions_without_time_limits(settings):
    """Sessions neither idle out nor end after the working day unless a test turns the limits
    on (``MINSHENG_SESSION_IDLE_MINUTES``, ``MINSHENG_SESSION_MAX_HOURS``; production's
    defaults are 30 minutes and 8 hours), so that a test may move the clock by days between
    two requests of one signed-in person."""
    settings.MINSHENG_SESSION_IDLE_MINUTES = 0
    settings.MINSHENG_SESSION_MAX_HOURS = 0


@pytest.fixture(autouse=True)
def _today_counted_live(settings):
    """The statistics page counts today live on both databases unless a test lets it read
    today's rollup (``settings.MINSHENG_STATS_TODAY_ROLLUP_S``; PostgreSQL's default is
    120 s), so that a figure changes as soon as a test acts."""
    settings.MINSHENG_STATS_TODAY_ROLLUP_S = 0


@pytest.fixture(autouse=True)
def _screen_computed_every_time(settings):
    """The command centre's screen computes its figures on every request unless a test
    lets it keep them (``settings.MINSHENG_COMMAND_CACHE_S``; the default is 60 s)."""
    settings.MINSHENG_COMMAND_CACHE_S = 0


@pytest.fixture
def demo_city(db):
    """The demo city (平湖市): places, roads, landmarks, units, the list of matters and the
    demo accounts, without demo cases."""
    from minsheng.demo.actions import load_demo

    load_demo(with_cases=False)


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # Each test gets an empty in-process cache: rate limits of one test never leak into
    # another, nor across parallel workers.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test"}
    }
    from django.core.cache import cache

    cache.clear()
