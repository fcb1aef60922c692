"""Migration 0003 rebuilds the readings table keyed by (device, ts): readings stored before
it are all there after it, a reading is still stored once, and it can be undone."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from minsheng.sensors import actions, storage
from minsheng.sensors.models import DeviceKind

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("sensors", "0002_inbound_batch_shard")]
AFTER = [("sensors", "0003_reading_keyed_by_device_and_time")]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_readings_survive_the_rebuild_and_its_undoing(city):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("sensors")
    lat, lng = city.POINTS["east.a"]
    device = actions.register_device(
        "yk-01",
        name="东湖雨水排口",
        kind=DeviceKind.OUTFALL,
        lat=lat,
        lng=lng,
        owner_unit=city.units["water"],
    )
    apps = migrate(BEFORE)
    try:
        Reading = apps.get_model("sensors", "Reading")
        t0 = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)
        Reading.objects.bulk_create(
            [
                Reading(device_id=device.pk, ts=t0 + dt.timedelta(minutes=i), flow=float(i), level=0.1)
                for i in range(5)
            ]
        )

        migrate(AFTER)
        assert storage.count(device.pk) == 5
        assert [v["flow"] for _t, v in storage.readings(device.pk)] == [0.0, 1.0, 2.0, 3.0, 4.0]
        # The key still stores a redelivered reading once.
        storage.write(
            [(device.pk, t0, {"flow": 9.0}), (device.pk, t0 + dt.timedelta(hours=1), {"flow": 7.0})]
        )
        assert storage.count(device.pk) == 6
        assert storage.readings(device.pk)[0][1]["flow"] == 0.0

        Reading = migrate(BEFORE).get_model("sensors", "Reading")
        assert Reading.objects.filter(device_id=device.pk).count() == 6
    finally:
        migrate(latest)
