"""Ingest shards: which process owns a device, and the supervisor that keeps N running."""

import signal
import sys
import time
from collections import Counter

import pytest

from minsheng.sensors.shards import Shard, Supervisor, shard_of


def test_a_devices_shard_is_the_same_everywhere_and_for_ever():
    # Pinned values: a change of the function would move devices between running shards
    # (and their persistent broker sessions), so it must be deliberate.
    assert [shard_of(d, 2) for d in ("yk-01", "yk-04", "bz-01", "bz-04")] == [1, 0, 0, 1]
    assert [shard_of("bench-00042", n) for n in (1, 2, 3, 4, 7)] == [0, 1, 2, 1, 5]
    assert [shard_of("sim-00007", n) for n in (1, 2, 3, 4, 7)] == [0, 0, 0, 0, 4]
    assert shard_of("任何设备", 1) == 0


@pytest.mark.parametrize("count", [2, 3, 4, 8])
def test_ten_thousand_devices_spread_evenly(count):
    for ids in (
        [f"bench-{i:05d}" for i in range(10_000)],
        [f"PH-{i % 7}-{i * 7919 % 100_003}" for i in range(10_000)],
    ):
        sizes = Counter(shard_of(d, count) for d in ids)
        assert set(sizes) == set(range(count))
        fair = 10_000 / count  # ±10%: about 4 standard deviations of chance at 8 shards
        assert max(sizes.values()) < fair * 1.1 and min(sizes.values()) > fair * 0.9, sizes


def test_a_shard_owns_exactly_its_devices_and_has_its_own_session():
    ids = [f"sim-{i:05d}" for i in range(1000)]
    shards = [Shard(i, 3) for i in range(3)]
    owners = [[s for s in shards if s.owns(d)] for d in ids]
    assert all(len(o) == 1 for o in owners)  # every device in one shard, no device in two
    assert Shard.parse("2/3") == Shard(2, 3) and str(Shard(2, 3)) == "2/3"
    assert Shard(1, 2).client_id("minsheng-ingest") == "minsheng-ingest-1of2"
    assert Shard().client_id("minsheng-ingest") == "minsheng-ingest"  # unsharded as before
    assert Shard(0, 2).leads and not Shard(1, 2).leads and not Shard().sharded
    for bad in ("2/2", "1", "a/b", "-1/2", "0/0"):
        with pytest.raises(ValueError):
            Shard.parse(bad)


def test_the_supervisor_restarts_a_dead_shard_and_stops_the_rest_with_sigterm():
    lines: list[str] = []
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    dies = [sys.executable, "-c", "import sys; sys.exit(3)"]
    sup = Supervisor([sleeper, dies], log=lines.append)
    sup.MIN_BACKOFF = 0.2
    assert sup.backoff == [0.0, 0.0]
    for i in range(2):
        sup._start(i)
    first_pid = sup.procs[1].pid
    sup.procs[1].wait(10)
    sup.poll()  # the dead one is noticed and scheduled again after the back-off
    assert sup.procs[1] is None and sup.restarts == 1
    assert any("exited with 3" in line for line in lines)
    sup.poll()
    assert sup.procs[1] is None  # not before its back-off
    time.sleep(0.3)
    sup.poll()
    assert sup.procs[1] is not None and sup.procs[1].pid != first_pid
    sup.procs[1].wait(10)
    sup.poll()
    assert sup.backoff[1] == pytest.approx(0.8)  # doubled again
    sleeper_proc = sup.procs[0]
    sup.shutdown()
    assert sleeper_proc.returncode == -signal.SIGTERM
