"""The channels the new parts take cases in by (110 transfers, enterprise requests; the
provincial platform's cases come in as the hotline's and Open311's as the app's) are named in
Chinese in the command screen's intake by channel and in the statistics' channel filter, and
each today's case is counted on its own channel's row."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from minsheng.cases.states import Channel
from tests.common.factories import intake

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_channel_has_a_chinese_name():
    with translation.override("zh-hans"):
        named = {value: str(label) for value, label in Channel.choices}
    assert {"110", "enterprise", "hotline", "app"} <= set(named)
    for value, words in named.items():
        assert CJK.search(words), (value, words)


def test_the_command_screen_and_the_statistics_name_and_count_the_new_channels(city, now):
    intake(city, channel="110", text="110转来：路口井盖缺失")
    intake(city, channel="enterprise", text="企业报装用水迟迟无人联系")
    intake(city, channel="enterprise", text="企业门口路面塌陷")
    client = Client()
    client.force_login(city.users["dispatcher"])
    html = client.get(reverse("command:screen")).content.decode()
    found = {
        ch: (label, int(today))
        for ch, label, today in re.findall(
            r'<tr data-channel="([^"]+)"><th scope="row">([^<]+)</th><td><a[^>]*>(\d+)</a>', html
        )
    }
    assert found["110"] == ("110非警务警情", 1)
    assert found["enterprise"] == ("企业", 2)
    assert found["hotline"][1] == 0
    stats = client.get(reverse("stats:index")).content.decode()
    assert '<option value="110">110非警务警情</option>' in stats
    assert '<option value="enterprise">企业</option>' in stats
