import pytest

from minsheng.core import workdays


@pytest.fixture(autouse=True)
def _no_city_holiday_schedules(monkeypatch):
    """The unit tier has no database: the city has entered no holiday schedule there, and
    working days come from the shipped calendar (or fall back to Mon–Fri)."""
    monkeypatch.setattr(workdays, "_load_city_schedules", workdays.CitySchedules)
    workdays.forget()
    yield
    workdays.forget()
