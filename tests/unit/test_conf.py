"""The one way a setting of Minsheng's own is read (``core.conf.setting``): the Django
setting, else the environment, else the default; missing, None and '' are not given."""

from __future__ import annotations

from minsheng.core.conf import setting

NAME = "MINSHENG_TEST_ONLY_SETTING"


def test_the_django_setting_wins_over_the_environment(settings, monkeypatch):
    monkeypatch.setenv(NAME, "from-env")
    settings.MINSHENG_TEST_ONLY_SETTING = "from-settings"
    assert setting(NAME, "default") == "from-settings"


def test_none_and_empty_are_not_given_wherever_they_come_from(settings, monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    assert setting(NAME, "default") == "default"
    settings.MINSHENG_TEST_ONLY_SETTING = None
    monkeypatch.setenv(NAME, "from-env")
    assert setting(NAME, "default") == "from-env"
    settings.MINSHENG_TEST_ONLY_SETTING = ""
    assert setting(NAME, "default") == "from-env"
    monkeypatch.setenv(NAME, "")
    assert setting(NAME, "default") == "default"
    assert setting(NAME, 7) == 7


def test_a_value_takes_the_type_of_the_default(settings, monkeypatch):
    monkeypatch.setenv(NAME, "42")
    assert setting(NAME, 10) == 42
    assert setting(NAME, 1.5) == 42.0
    assert setting(NAME, None) == "42"  # no default type: as found
    for raw, truth in (("1", True), ("yes", True), ("On", True), ("0", False), ("no", False)):
        monkeypatch.setenv(NAME, raw)
        assert setting(NAME, False) is truth
    settings.MINSHENG_TEST_ONLY_SETTING = 3
    assert setting(NAME, 0.5) == 3.0
    assert setting(NAME, True) is True
