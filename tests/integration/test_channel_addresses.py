"""A unit's channel never reaches an internal address (server-side request forgery): refused
when the channel is saved, and refused again at delivery, on the address actually connected
to, when the name has come to point inside since (DNS changed, or rebinding). Loopback only."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ValidationError

from minsheng.notify import addresses
from minsheng.notify.channels import ChannelError, DingTalkRobot, Rendered, Webhook
from minsheng.notify.models import OutboxMessage, UnitChannel
from minsheng.notify.testing import Receiver

TEXT = Rendered(title="新工单", body="人行道井盖破损")
INTERNAL = [
    "http://127.0.0.1:5432/",
    "http://localhost:8000/api/",
    "http://10.20.30.40/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud's
    "http://0.0.0.0:1883/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_address_is_refused(url):
    assert addresses.refusal(url) is not None


@pytest.mark.parametrize("url", ["https://8.8.8.8/robot/send", "https://[2001:4860:4860::8888]/hook"])
def test_a_public_address_is_taken(url):
    assert addresses.refusal(url) is None


def test_a_name_that_does_not_resolve_now_is_left_to_delivery():
    assert addresses.refusal("https://hooks.invalid/send") is None


def test_a_network_the_city_allows_is_reachable(settings):
    settings.MINSHENG_NOTIFY_ALLOWED_NETWORKS = "10.20.0.0/16"
    assert addresses.refusal("http://10.20.30.40/hook") is None
    assert addresses.refusal("http://10.21.0.1/hook") is not None
    assert addresses.refusal("http://127.0.0.1/") is not None


@pytest.mark.django_db
def test_a_channel_pointing_inside_is_not_saved(city):
    for url in ("http://169.254.169.254/latest/meta-data/", "http://localhost:5432/"):
        channel = UnitChannel(unit=city.units["roads"], kind="webhook", url=url, secret="s")
        with pytest.raises(ValidationError) as refused:
            channel.full_clean()
        assert "url" in refused.value.message_dict
    UnitChannel(
        unit=city.units["roads"], kind="dingtalk", url="https://8.8.8.8/robot/send?access_token=x"
    ).full_clean()


@pytest.fixture
def name_now_points_to_loopback(monkeypatch):
    """``hooks.example.org`` resolved to a public address when its channel was saved; now
    (DNS changed, or an attacker rebinds it) it answers 127.0.0.1, where a receiver listens."""
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        return real("127.0.0.1" if host == "hooks.example.org" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _message() -> OutboxMessage:
    from minsheng.core import clock

    return OutboxMessage(pk=7, kind="case_assigned", audience="unit", created_at=clock.now())


def test_delivery_refuses_a_name_that_has_come_to_point_inside(name_now_points_to_loopback):
    with Receiver("webhook", secret="s") as rx:
        port = rx.url.split(":")[-1].split("/")[0]
        url = f"http://hooks.example.org:{port}/"
        for channel in (Webhook(url, "s"), DingTalkRobot(url, "")):
            with pytest.raises(ChannelError, match="internal address"):
                channel.send(TEXT, _message())
        assert rx.received == []  # not a byte reached the receiver


def test_delivery_reaches_it_once_the_city_allows_the_network(name_now_points_to_loopback, settings):
    settings.MINSHENG_NOTIFY_ALLOWED_NETWORKS = "127.0.0.0/8"
    with Receiver("webhook", secret="s") as rx:
        port = rx.url.split(":")[-1].split("/")[0]
        Webhook(f"http://hooks.example.org:{port}/", "s").send(TEXT, _message())
        assert len(rx.received) == 1
