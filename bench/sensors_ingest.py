"""How many readings per second go through ingest + detection, and how long from the
reading that completes an alarm to its work order (alarm-to-case latency)?

Why: seed 001's outfall devices are the start; a city's whole network (outfalls, pumping
stations, pipe nodes, rural sewage stations) is thousands of devices reporting every
minute or faster, and the 15-minute response clock starts only when the case exists.
Targets: 50,000 readings/s sustained in batches with 10,000 devices; alarm-to-case p99
under 1 s.

What is timed is the ingest process's own work per batch, exactly as ``MqttIngest.handle``
does it: JSON decoding, validation (``Pipeline.accept``), storage (``storage.write``, one
statement per batch, a ``(device, ts)`` stored once), detection (every rule of every device),
the named actions for whatever fired (``raise_alarm`` → ``accept_case``), and the status
cache flush. Readings are generated beforehand by the simulator's physics, so generating
them is not timed; the broker is not in the loop (``--mqtt URL`` adds a separate,
end-to-end run through a real broker).

1. throughput: 10,000 devices (30% rain outfalls watched for dry-weather flow, 70% pipe
   nodes with threshold, rate and same-hour baseline rules), ``--rounds`` readings each,
   in batches of ``--batch``; 0.2% of devices start an anomaly, so cases open during the
   run as they would.
2. latency: readings arrive at ``--rate`` (50,000/s) for ``--seconds``, taken the way
   ``MqttIngest.drain`` takes them (20 ms windows, at most ``--batch``; a loop that fell
   behind takes bigger batches); anomalies are injected into ``--alarms`` devices spread
   over the run; for each alarm, the time from the arrival of the first reading of its
   batch to the committed case with its clock; p50/p99/max. If the loop cannot keep up,
   this grows, and the line says how far behind it finished.

3. ``--shards N``: the throughput run split across N processes, as ``minsheng sensors
   --shards N`` splits the devices (``Shard(i, N)``: each process loads and judges its
   share of the same 10,000 devices, storing into the same database). Each process
   generates its readings first, then all start together on a signal from the parent;
   the figure is all readings over the wall time from that common start to the last
   process's finish, with each process's own figure beside it. The latency run (2.) runs
   in N processes too, each taking its devices' share of ``--rate``. With ``--mqtt`` or
   ``--mosquitto``, the end-to-end run uses N shard processes too, each subscribed to its
   own devices' topics.

4. ``--sustained``: the paced run (2.) becomes the sustained one: each process also does
   everything else its ingest loop does while readings flow (``Pipeline.tick`` on the wall
   clock: registry reload, silence, status cache, counters, weather, and the hourly
   roll-up, purge and baselines in the chores thread; the HTTP hand-over and the command
   claim every 0.2 s), with four weeks of same-hour roll-ups to read. With ``--shards N``
   each process gets its share of ``--rate``; the lines say how far behind each finished,
   the longest a reading waited to be taken, and alarm-to-case p50/p99.
   ``--shards 2 --sustained --seconds 60 --rate 50000`` is the figure for the target.

It builds a throw-away database (SQLite in a temporary directory, or a ``test_…`` database
next to the one ``--database-url`` names) and removes it afterwards. Results go into
docs/sensors.md by hand, with the machine they ran on.

    .venv/bin/python bench/sensors_ingest.py
    .venv/bin/python bench/sensors_ingest.py --devices 2000 --rounds 5   # quicker
    .venv/bin/python bench/sensors_ingest.py --database-url postgresql://postgres@127.0.0.1/minsheng
    .venv/bin/python bench/sensors_ingest.py --mqtt mqtt://127.0.0.1:1883
    .venv/bin/python bench/sensors_ingest.py --shards 2 --mosquitto
    .venv/bin/python bench/sensors_ingest.py --shards 2 --sustained --seconds 60 --rate 50000
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlsplit

TEMP_DIRS: list[str] = []  # removed when the run ends


def setup(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["MINSHENG_VAR"] = tempfile.mkdtemp(prefix="minsheng-sensors-bench-")
        TEMP_DIRS.append(os.environ["MINSHENG_VAR"])
    import django

    django.setup()
    import logging

    logging.getLogger("minsheng").setLevel(logging.ERROR)


# A device is offline (silence) after 120 minutes without a reading: the sustained run plays
# at most 100 minutes of readings, all of them recent, while the loop checks silence.
RAIN = {
    "hold_seconds": 0,
    "clear_seconds": 300,
    "silence": {"minutes": 120},
    "quantities": {
        "flow": {"dry_weather": {"max": 0.5}},
        "level": {"threshold": {}},
        "cod": {"threshold": {}},
    },
}
NODE = {
    "hold_seconds": 0,
    "clear_seconds": 300,
    "silence": {"minutes": 120},
    "quantities": {
        "level": {"threshold": {}},
        "flow": {
            "rate": {"max_rise": 60, "window_seconds": 300},
            "baseline": {"k": 8, "min_samples": 7, "floor": 5},
        },
    },
}


def make_sims(n: int):
    """The simulated devices, the same in every process of a sharded run."""
    from minsheng.sensors.simulator import SimDevice

    sims = []
    for i in range(n):
        is_rain = i % 10 < 3
        sims.append(
            SimDevice(
                f"bench-{i:05d}",
                profile="rain_outfall" if is_rain else "sewage",
                base_flow=6.0 if is_rain else 40.0,
                has_valve=is_rain,
                quantities=("flow", "level", "cod") if is_rain else ("flow", "level"),
            )
        )
    return sims


def anomalous_ids(sims) -> list[str]:
    """0.2% of the devices start an anomaly half-way through the throughput run."""
    n = len(sims)
    return [s.device_id for s in sims[:: max(1, n // max(1, n // 500))]][: max(1, n // 500)]


def make_devices(n: int):
    from minsheng.accounts.models import Unit, UnitKind
    from minsheng.catalog.models import Matter
    from minsheng.core import clock
    from minsheng.sensors.models import Device, DeviceKind, DeviceType

    unit = Unit.objects.create(code="swjt", name="水务集团", kind=UnitKind.DEPARTMENT)
    Unit.objects.create(code="centre", name="社会治理中心", kind=UnitKind.CENTRE)
    Matter.objects.create(code="water.outfall", name="排口流量或水质异常", owner_unit=unit)
    rain = DeviceType.objects.create(
        code="rain",
        name="雨水排口",
        kind=DeviceKind.OUTFALL,
        quantities=["flow", "level", "cod"],
        has_valve=True,
        normal_ranges={"level": [None, 1.0], "cod": [None, 100]},
        rules=RAIN,
    )
    node = DeviceType.objects.create(
        code="node",
        name="管网节点",
        kind=DeviceKind.SEWAGE_NODE,
        quantities=["flow", "level"],
        normal_ranges={"level": [None, 1.5]},
        rules=NODE,
    )
    now = clock.now()
    rows, sims = [], make_sims(n)
    for i, sim in enumerate(sims):
        is_rain = i % 10 < 3
        rows.append(
            Device(
                device_id=sim.device_id,
                name=f"设备{i}",
                owner_unit=unit,
                kind=(rain if is_rain else node).kind,
                device_type=rain if is_rain else node,
                created_at=now,
                lat=30.6 + (i % 100) * 0.002,
                lng=120.9 + (i // 100) * 0.002,
            )
        )
    Device.objects.bulk_create(rows, batch_size=1000)
    return sims


def baseline_history(pipeline) -> None:
    """Four weeks of same-hour means, as the hourly job would load them from roll-ups."""
    from minsheng.sensors.detection import BaselineCheck
    from minsheng.sensors.simulator import diurnal

    history = {h: [40.0 * diurnal(h) * (1 + 0.03 * ((d % 5) - 2)) for d in range(28)] for h in range(24)}
    profile: dict[int, tuple[float, float]] = {}
    for e in pipeline.devices.values():
        for c in e.detector.checks():
            if isinstance(c, BaselineCheck):
                if not profile:
                    for h, values in history.items():
                        c.set_history(h, values)
                    profile = dict(c.profile)
                c.profile = dict(profile)


def generate(world, rounds: int, start: float, step: float, anomalies: dict[int, list[str]]):
    """Encoded messages ``(device_id, payload bytes)`` per round, as they come off MQTT."""
    from minsheng.sensors.simulator import telemetry

    out = []
    devices = list(world.devices.values())
    for r in range(rounds):
        for device_id in anomalies.get(r, ()):
            d = world.devices[device_id]
            world.inject(device_id, "discharge" if d.profile == "rain_outfall" else "overflow", None, start)
        t = start + r * step
        out.append(
            [
                (d.device_id, telemetry(d, t + (i % 97) * 0.01, world.reading(d, t)))
                for i, d in enumerate(devices)
            ]
        )
    return out


PENDING: list = []
STATUS_EVERY = 5.0  # seconds, as Pipeline.tick flushes the status cache
WINDOW_S = 0.02  # MqttIngest's batch_wait
_last_flush = [0.0]


def maybe_flush(pipeline) -> None:
    now = time.perf_counter()
    if now - _last_flush[0] >= STATUS_EVERY:
        _last_flush[0] = now
        pipeline.flush_status()


def ingest_batch(pipeline, batch, now_t: float) -> int:
    """What ``MqttIngest.handle`` does with a batch of telemetry messages (with at most two
    batches being stored while the next is judged, as it acknowledges them)."""
    items = []
    for device_id, payload in batch:
        item = pipeline.accept(device_id, json.loads(payload.decode()), now_t, "mqtt")
        if item is not None:
            items.append(item)
    pipeline.process(items)
    if pipeline.last_write is not None:
        PENDING.append(pipeline.last_write)
        while len(PENDING) > 2:
            PENDING.pop(0).result()
    return len(items)


def drain() -> None:
    while PENDING:
        PENDING.pop(0).result()


def make_pipeline(overlap: bool, *, baselines: bool = True, **kw):
    """A pipeline as the ingest process runs it, its registry loaded and frozen, dry
    weather; ``baselines``: four weeks of same-hour history set in memory."""
    from minsheng.sensors.ingest import Pipeline, StorageWriter
    from minsheng.sensors.shards import Shard

    writer = StorageWriter.for_shard(kw.get("shard") or Shard()) if overlap else None
    pipeline = Pipeline(writer=writer, **kw)
    pipeline.load()
    if baselines:
        baseline_history(pipeline)
    pipeline.freeze()
    pipeline.ctx.dry = True
    return pipeline


def ingest_rounds(pipeline, rounds_msgs, batch_size: int, now_t: float) -> int:
    """Every round in batches as fast as they go; returns the readings taken, all stored."""
    done = 0
    for msgs in rounds_msgs:
        for i in range(0, len(msgs), batch_size):
            done += ingest_batch(pipeline, msgs[i : i + batch_size], now_t)
            maybe_flush(pipeline)
    pipeline.flush_status()
    drain()
    return done


def throughput(sims, rounds: int, batch_size: int, overlap: bool) -> None:
    from minsheng.cases.models import Case
    from minsheng.core import clock
    from minsheng.sensors import storage
    from minsheng.sensors.simulator import World

    world = World(sims, seed=1)
    n = len(sims)
    step = 60.0
    start = clock.now().timestamp() - rounds * step - 60
    anomalous = anomalous_ids(sims)
    t_gen = time.perf_counter()
    rounds_msgs = generate(world, rounds, start, step, {rounds // 2: anomalous})
    gen_s = time.perf_counter() - t_gen
    pipeline = make_pipeline(overlap)
    now_t = clock.now().timestamp()
    t0 = time.perf_counter()
    done = ingest_rounds(pipeline, rounds_msgs, batch_size, now_t)
    elapsed = time.perf_counter() - t0
    cases = Case.objects.count()
    print(
        f"throughput{' (storing beside judging)' if overlap else ' (one thread)'}: {n} devices "
        f"× {rounds} readings = {done} readings in {elapsed:.2f} s "
        f"→ {done / elapsed:,.0f} readings/s (batches of {batch_size}; generating them took "
        f"{gen_s:.1f} s, not timed); stored {storage.count()}, alarms raised "
        f"{pipeline.alarms_raised}, cases opened {cases}"
    )
    # Where the time goes, on one more round of the same size.
    msgs = generate(world, 1, start + rounds * step, step, {})[0]
    parse_s = store_s = detect_s = 0.0
    for i in range(0, len(msgs), batch_size):
        chunk = msgs[i : i + batch_size]
        a = time.perf_counter()
        items = [pipeline.accept(d, json.loads(p), now_t, "mqtt") for d, p in chunk]
        b = time.perf_counter()
        storage.write([(e.pk, ts, v) for e, ts, _t, v in items])
        c = time.perf_counter()
        pipeline.process(items, store=False)
        parse_s, store_s, detect_s = parse_s + b - a, store_s + c - b, detect_s + time.perf_counter() - c
    pipeline.close()
    total = parse_s + store_s + detect_s
    print(
        f"  per reading: decode+validate {parse_s / len(msgs) * 1e6:.1f} µs, "
        f"store {store_s / len(msgs) * 1e6:.1f} µs, detect {detect_s / len(msgs) * 1e6:.1f} µs "
        f"({len(msgs) / total:,.0f} readings/s on this round)"
    )


def paced(
    sims,
    seconds: float,
    rate: float,
    batch_size: int,
    n_alarms: int,
    overlap: bool,
    loop_work: bool,
    shard=None,
    seed: int = 2,
    go=None,
) -> dict:
    """Readings arrive at ``rate`` for ``seconds``; the pipeline takes them the way
    ``MqttIngest.drain`` does (20 ms windows, at most ``batch_size``; a loop that fell behind
    takes bigger batches). Anomalies are injected into ``n_alarms`` devices spread over the
    run; for each alarm, the time from the arrival of the first reading of its batch to the
    committed case with its clock.

    ``loop_work`` (the sustained run) adds everything else the ingest loop does while the
    readings flow, on the wall clock: ``Pipeline.tick`` (registry reload every 60 s, silence
    every 10 s, status cache every 5 s, counters, weather, and the hourly roll-up, purge and
    baselines in the chores thread), the HTTP hand-over and the command claim every 0.2 s.
    Its readings are 20 s apart per device (less if the run holds more than 300 a device)
    and end now, so that no device looks silent (``silence`` is 120 minutes in this
    bench's rules)."""
    from minsheng.cases.models import Case
    from minsheng.core import clock
    from minsheng.sensors.models import Alarm
    from minsheng.sensors.simulator import World

    world = World(sims, seed=seed)
    n = len(sims)
    rounds = max(2, int(seconds * rate / n))
    # The sustained run's readings span at most 100 minutes and end now (silence: 120).
    step = min(20.0, 6000.0 / rounds) if loop_work else 60.0
    start = clock.now().timestamp() - rounds * step - (0 if loop_work else 60)
    # Devices that have not alarmed yet, a few injected in every round after the first.
    alarmed = set(Alarm.objects.values_list("device__device_id", flat=True))
    quiet = [s.device_id for s in sims if s.device_id not in alarmed]
    schedule: dict[int, list[str]] = {}
    for k, device_id in enumerate(quiet[:n_alarms]):  # spread evenly after the first round
        schedule.setdefault(1 + k * (rounds - 1) // max(1, n_alarms), []).append(device_id)
    t_gen = time.perf_counter()
    msgs_by_round = generate(world, rounds, start, step, schedule)
    gen_s = time.perf_counter() - t_gen
    samples: list[float] = []
    arrival = [0.0]

    def on_alarm(f, _since_start: float) -> None:
        if f.raised:  # from the moment its batch had arrived (was due), to the committed case
            samples.append(time.perf_counter() - arrival[0])

    kw = {"shard": shard} if shard is not None else {}
    if loop_work:
        from minsheng.sensors.ingest import Chores

        kw["chores"] = Chores()
    # The sustained run reads the baselines from roll-ups, as the ingest process would.
    pipeline = make_pipeline(overlap, baselines=not loop_work, on_alarm=on_alarm, **kw)
    cases_before = Case.objects.count()
    flat = [m for msgs in msgs_by_round for m in msgs]
    del msgs_by_round
    total = len(flat)
    window = max(1, int(rate * WINDOW_S))
    biggest = 0
    pos = 0
    ticks = [0.0]
    worst = [0.0, 0.0]  # the longest a batch's first reading waited to be taken, and when
    if go is not None:
        go(gen_s, len(pipeline.devices))
    began = time.time()
    t0 = time.perf_counter()
    now_t = clock.now().timestamp()
    while pos < total:
        arrived = min(total, int((time.perf_counter() - t0) * rate))
        if arrived < min(total, pos + window):
            time.sleep(max(0.0, t0 + min(total, pos + window) / rate - time.perf_counter()))
            arrived = min(total, int((time.perf_counter() - t0) * rate))
        end = min(arrived, pos + batch_size)
        arrival[0] = t0 + pos / rate  # the batch's first reading: the longest wait in it
        lag = time.perf_counter() - arrival[0]
        if lag > worst[0]:
            worst[0], worst[1] = lag, arrival[0] - t0
        if loop_work:
            now_t = time.time()
        ingest_batch(pipeline, flat[pos:end], now_t)
        biggest = max(biggest, end - pos)
        pos = end
        if loop_work:
            loop_chores(pipeline, ticks)
        else:
            maybe_flush(pipeline)
    pipeline.flush_status()
    drain()
    elapsed = time.perf_counter() - t0
    ended = time.time()
    pipeline.close()
    samples.sort()
    return {
        "readings": total,
        "rate": rate,
        "elapsed": elapsed,
        "behind": elapsed - total / rate,
        "biggest": biggest,
        "samples": samples,
        "gen_s": gen_s,
        "began": began,
        "ended": ended,
        "devices": len(pipeline.devices),
        "shard": str(pipeline.shard),
        "opened": Case.objects.count() - cases_before,
        "stored": pipeline.stored,
        "worst_wait": worst[0],
        "worst_at": worst[1],
    }


def loop_chores(pipeline, last: list[float]) -> None:
    """What ``MqttIngest.run`` does between batches besides them."""
    from minsheng.sensors import actions

    now = time.monotonic()
    if now - last[0] >= 0.2:
        last[0] = now
        if pipeline.shard.leads:
            actions.claim_pending_commands()
        pipeline.take_inbound()
    pipeline.tick()


def percentile_line(samples: list[float]) -> str:
    if not samples:
        return "no alarms fired"
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] * 1000  # noqa: E731
    return (
        f"alarm-to-case p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, max "
        f"{samples[-1] * 1000:.0f} ms (mean {statistics.mean(samples) * 1000:.0f} ms, "
        f"{len(samples)} alarms)"
    )


def latency(
    sims, seconds: float, rate: int, batch_size: int, n_alarms: int, overlap: bool, loop_work: bool = False
) -> None:
    if loop_work:
        rollup_history(sims)
    r = paced(sims, seconds, rate, batch_size, n_alarms, overlap, loop_work)
    what = "sustained" if loop_work else "latency"
    print(
        f"{what}: {r['readings']} readings arriving at {rate:,.0f}/s for "
        f"{r['readings'] / rate:.0f} s, taken in 20 ms windows up to {batch_size} (largest "
        f"batch {r['biggest']}); all handled {r['behind']:.1f} s after the last arrived "
        f"(→ {r['readings'] / r['elapsed']:,.0f} readings/s); {r['opened']} cases opened; "
        f"{percentile_line(r['samples'])}"
    )


def rollup_history(sims) -> None:
    """Four weeks of the same-hour roll-ups (this hour and the next) for the devices with a
    baseline rule, which the sustained run's hourly job reads, as the ingest process would."""
    import zoneinfo

    from django.conf import settings

    from minsheng.core import clock
    from minsheng.sensors import storage
    from minsheng.sensors.models import Device
    from minsheng.sensors.simulator import diurnal

    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    now = clock.now()
    this_hour = storage.hour_start(now)
    pks = dict(Device.objects.filter(device_type__code="node").values_list("device_id", "pk"))
    rows = []
    for s in sims:
        pk = pks.get(s.device_id)
        if pk is None:
            continue
        for h in (this_hour, this_hour + dt.timedelta(hours=1)):
            local = h.astimezone(tz).hour
            for d in range(1, 29):
                mean = 40.0 * diurnal(local) * (1 + 0.03 * ((d % 5) - 2))
                rows.append((pk, h - dt.timedelta(days=d), {"flow": [mean, mean * 0.8, mean * 1.2, 60]}))
    for i in range(0, len(rows), 20_000):
        storage.write_hours(rows[i : i + 20_000])


def settled(pipeline, timeout: float = 300.0) -> None:
    """Wait for the ingest loop's first pass of periodic work: past an hour boundary it
    rolls up the hour the throughput and latency runs just filled, which holds the loop
    for a while and is not what the end-to-end run measures."""
    from minsheng.core import clock
    from minsheng.sensors import storage

    deadline = time.monotonic() + timeout
    while (
        pipeline.shard.leads
        and pipeline._rolled_until != storage.hour_start(clock.now())
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)


def start_publishers(url: str, prefix: str, device_ids: list[str], n: int):
    """Publishers in C (``mosquitto_pub -l``, one line a message), one per device, QoS 1,
    ``n`` messages in all: a Python publisher is slower than the ingest loop and would
    measure itself. Returns the processes, the number of messages really sent (a multiple
    of the publishers) and the moment they started."""
    import shutil

    from minsheng.sensors.ingest import BrokerAddress

    tool = shutil.which("mosquitto_pub")
    if tool is None:
        raise SystemExit("the MQTT run needs mosquitto_pub")
    address = BrokerAddress.parse(url)
    per = n // len(device_ids)
    workdir = tempfile.mkdtemp(prefix="minsheng-sensors-bench-pub-")
    TEMP_DIRS.append(workdir)
    t_start = time.time() - 3600
    files = []
    for k in range(len(device_ids)):
        path = os.path.join(workdir, f"p{k}.txt")
        with open(path, "w") as f:
            for i in range(per):
                ts = dt.datetime.fromtimestamp(t_start + i * 0.001, tz=dt.UTC).isoformat()
                f.write(json.dumps({"ts": ts, "values": {"flow": 1.0, "level": 0.3}}) + "\n")
        files.append(path)
    t0 = time.perf_counter()
    pubs = []
    for device_id, path in zip(device_ids, files, strict=True):
        with open(path, "rb") as stdin:
            pubs.append(
                subprocess.Popen(
                    [
                        tool,
                        "-h",
                        address.host,
                        "-p",
                        str(address.port),
                        "-q",
                        "1",
                        "-l",
                        "-t",
                        f"{prefix}/{device_id}/telemetry",
                    ],
                    stdin=stdin,
                )
            )
    return pubs, per * len(device_ids), t0


def wait_stored(before: int, n: int, pubs, t0: float) -> float:
    """Until ``n`` readings more than ``before`` are stored, or the publishers are done and
    nothing more arrives for 5 s (the rest is lost); the seconds since ``t0``."""
    from minsheng.sensors import storage

    deadline = time.monotonic() + 120
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        got = storage.count() - before
        if got >= n:
            break
        if got != last:
            last, last_change = got, time.monotonic()
        elif all(p.poll() is not None for p in pubs) and time.monotonic() - last_change > 5:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    for p in pubs:
        p.wait(30)
    return elapsed


def mqtt_end_to_end(url: str, n: int, label: str = "") -> None:
    """Through a real broker: a publisher process sends ``n`` QoS 1 messages; the ingest
    loop here stores and judges them and acknowledges them after storing."""
    from minsheng.sensors import storage
    from minsheng.sensors.ingest import BrokerAddress, MqttIngest, Pipeline

    run = uuid.uuid4().hex[:8]
    prefix = f"minsheng-bench-{run}/sensors"
    pipeline = Pipeline()
    ingest = MqttIngest(pipeline, BrokerAddress.parse(url), client_id=f"bench-ingest-{run}", prefix=prefix)
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    before = storage.count()
    thread.start()
    ingest.connected.wait(10)
    settled(pipeline)
    time.sleep(0.5)
    pubs, n, t0 = start_publishers(url, prefix, [f"bench-{k:05d}" for k in range(4)], n)
    elapsed = wait_stored(before, n, pubs, t0)
    stop.set()
    thread.join(10)
    got = storage.count() - before
    print(
        f"mqtt end to end ({label or url}): {got} of {n} QoS 1 messages stored in "
        f"{elapsed:.2f} s → {got / elapsed:,.0f} readings/s (publisher and ingest on the "
        f"same machine){'' if got == n else f'; {n - got} LOST at the broker'}"
    )


# --- sharded runs: N processes, one database ---------------------------------------------


def say(**fields) -> None:
    """A child's line for the parent."""
    print("BENCH " + json.dumps(fields), flush=True)


def child_throughput(shard_text: str, n: int, rounds: int, batch_size: int, overlap: bool = True) -> None:
    """One shard of the sharded throughput run: generate, report ready, wait for "go",
    ingest, report."""
    from minsheng.core import clock
    from minsheng.sensors.shards import Shard
    from minsheng.sensors.simulator import World

    shard = Shard.parse(shard_text)
    sims = [s for s in make_sims(n) if shard.owns(s.device_id)]
    mine = {s.device_id for s in sims}
    world = World(sims, seed=1 + shard.index)
    step = 60.0
    start = clock.now().timestamp() - rounds * step - 60
    t_gen = time.perf_counter()
    rounds_msgs = generate(
        world, rounds, start, step, {rounds // 2: [d for d in anomalous_ids(make_sims(n)) if d in mine]}
    )
    gen_s = time.perf_counter() - t_gen
    pipeline = make_pipeline(overlap, shard=shard)
    now_t = clock.now().timestamp()
    say(ready=True, devices=len(pipeline.devices), gen_s=gen_s)
    if sys.stdin.readline().strip() != "go":
        return
    began = time.time()
    done = ingest_rounds(pipeline, rounds_msgs, batch_size, now_t)
    ended = time.time()
    pipeline.close()
    say(
        shard=str(shard),
        readings=done,
        began=began,
        ended=ended,
        alarms=pipeline.alarms_raised,
        devices=len(pipeline.devices),
        gen_s=gen_s,
    )


def spawn_children(args, shards: int, mode: str, extra: list[str]) -> list[subprocess.Popen]:
    from django.db import connection

    if connection.vendor == "sqlite":
        url = f"sqlite:///{connection.settings_dict['NAME']}"
    else:  # the test_… database the parent built, on the same server
        parts = urlsplit(args.database_url)
        url = parts._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    return [
        subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--child",
                mode,
                "--shard",
                f"{i}/{shards}",
                "--database-url",
                url,
                "--devices",
                str(args.devices),
                "--rounds",
                str(args.rounds),
                "--batch",
                str(args.batch),
                *extra,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(shards)
    ]


def read_line(proc: subprocess.Popen) -> dict:
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"a shard process (pid {proc.pid}) ended early")
        if line.startswith("BENCH "):
            return json.loads(line[6:])


def run_together(procs: list[subprocess.Popen]) -> tuple[list[dict], float, list[dict]]:
    """Wait until every child is ready, start them all on one signal, collect their
    results: (ready lines, the start time, result lines)."""
    ready = [read_line(p) for p in procs]
    t0 = time.time()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [read_line(p) for p in procs]
    for p in procs:
        p.wait(60)
    return ready, t0, results


def sharded_throughput(args, shards: int) -> None:
    from minsheng.cases.models import Case
    from minsheng.sensors import storage

    procs = spawn_children(args, shards, "throughput", ["--one-thread"] if args.one_thread else [])
    ready, t0, results = run_together(procs)
    wall = max(r["ended"] for r in results) - t0
    total = sum(r["readings"] for r in results)
    how = "storing in the judging thread" if args.one_thread else "storing beside judging"
    print(
        f"throughput, {shards} processes ({how} in each): {total} readings "
        f"in {wall:.2f} s from the common start to the last finish → {total / wall:,.0f} "
        f"readings/s (batches of {args.batch}; generating took up to "
        f"{max(r['gen_s'] for r in ready):.1f} s, not timed); stored {storage.count()}, "
        f"alarms raised {sum(r['alarms'] for r in results)}, cases opened "
        f"{Case.objects.count()}"
    )
    for r in results:
        own = r["ended"] - r["began"]
        print(
            f"  shard {r['shard']}: {r['devices']} devices, {r['readings']} readings in "
            f"{own:.2f} s → {r['readings'] / own:,.0f} readings/s (started "
            f"{(r['began'] - t0) * 1000:.0f} ms after the signal)"
        )


def child_paced(
    shard_text: str,
    n: int,
    seconds: float,
    rate: float,
    batch_size: int,
    n_alarms: int,
    overlap: bool,
    loop_work: bool,
) -> None:
    """One shard of the sharded latency (or sustained) run: readings of its own devices
    arrive at its share of the rate; generate, report ready, wait for "go", ingest."""
    from minsheng.sensors.shards import Shard

    shard = Shard.parse(shard_text)
    sims = [s for s in make_sims(n) if shard.owns(s.device_id)]

    def ready(gen_s: float, devices: int) -> None:
        say(ready=True, devices=devices, gen_s=gen_s)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit(0)

    r = paced(
        sims,
        seconds,
        rate,
        batch_size,
        n_alarms,
        overlap,
        loop_work,
        shard=shard,
        seed=2 + shard.index,
        go=ready,
    )
    say(**r)


def sharded_paced(args, shards: int) -> None:
    if args.sustained:
        rollup_history(make_sims(args.devices))
    extra = [
        "--seconds",
        str(args.seconds),
        "--rate",
        str(args.rate / shards),
        "--alarms",
        str(args.alarms // shards),
    ]
    extra += ["--one-thread"] if args.one_thread else []
    extra += ["--sustained"] if args.sustained else []
    from minsheng.cases.models import Case

    cases_before = Case.objects.count()
    procs = spawn_children(args, shards, "paced", extra)
    _ready, t0, results = run_together(procs)
    total = sum(r["readings"] for r in results)
    wall = max(r["ended"] for r in results) - t0
    samples = sorted(x for r in results for x in r["samples"])
    what = "sustained" if args.sustained else "latency"
    print(
        f"{what}, {shards} processes: {total} readings arriving at {args.rate:,.0f}/s "
        f"({args.rate / shards:,.0f}/s for each) for {total / args.rate:.0f} s; all handled "
        f"{max(r['behind'] for r in results):.1f} s after the last arrived (→ "
        f"{total / wall:,.0f} readings/s from the common start); "
        f"{Case.objects.count() - cases_before} cases opened; {percentile_line(samples)}"
    )
    for r in results:
        print(
            f"  shard {r['shard']}: {r['devices']} devices, {r['readings']} readings, "
            f"largest batch {r['biggest']}, longest wait to be taken "
            f"{r['worst_wait'] * 1000:.0f} ms ({r['worst_at']:.0f} s in), behind "
            f"{r['behind']:.1f} s; {percentile_line(r['samples'])}"
        )


def child_mqtt(shard_text: str, url: str, prefix: str, run: str) -> None:
    """One shard's ingest at the broker, until the parent closes its stdin."""
    import signal

    from minsheng.sensors.ingest import BrokerAddress, MqttIngest, Pipeline
    from minsheng.sensors.shards import Shard

    shard = Shard.parse(shard_text)
    pipeline = Pipeline(shard=shard)
    ingest = MqttIngest(
        pipeline, BrokerAddress.parse(url), client_id=shard.client_id(f"bench-ingest-{run}"), prefix=prefix
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    thread.start()
    if not ingest.connected.wait(10):
        raise SystemExit("could not connect")
    settled(pipeline)
    time.sleep(1.5)  # the SUBACKs of its devices' topics
    say(ready=True, devices=len(pipeline.devices))
    sys.stdin.readline()
    stop.set()
    thread.join(30)
    say(shard=str(shard), stored=pipeline.stored)


def forget_sessions(url: str, client_ids: list[str]) -> None:
    """Connect once with a clean session as each client id, so that the broker drops the
    persistent sessions a run made."""
    from minsheng.sensors.ingest import BrokerAddress, make_client

    address = BrokerAddress.parse(url)
    for cid in client_ids:
        client = make_client(cid, clean_session=True, address=address)
        try:
            client.connect(address.host, address.port)
            client.loop(1.0)
            client.disconnect()
        except OSError:
            pass


def sharded_mqtt_end_to_end(args, url: str, n: int, shards: int, label: str = "") -> None:
    """As :func:`mqtt_end_to_end`, with ``shards`` ingest processes; the publishers' devices
    are chosen so that each shard gets the same number."""
    import shutil

    from minsheng.sensors import storage
    from minsheng.sensors.shards import Shard, shard_of

    tool = shutil.which("mosquitto_pub")
    if tool is None:
        raise SystemExit("the MQTT run needs mosquitto_pub")
    run = uuid.uuid4().hex[:8]
    prefix = f"minsheng-bench-{run}/sensors"
    publishers = 4
    per_shard = publishers // shards or 1
    chosen: list[str] = []
    for s in range(shards):
        ids = [f"bench-{i:05d}" for i in range(args.devices)]
        chosen += [d for d in ids if shard_of(d, shards) == s][:per_shard]
    procs = spawn_children(args, shards, "mqtt", ["--mqtt-url", url, "--prefix", prefix, "--run", run])
    try:
        ready = [read_line(p) for p in procs]
        before = storage.count()
        pubs, n, t0 = start_publishers(url, prefix, chosen, n)
        elapsed = wait_stored(before, n, pubs, t0)
        for p in procs:
            p.stdin.write("stop\n")
            p.stdin.flush()
        results = [read_line(p) for p in procs]
        got = storage.count() - before
        print(
            f"mqtt end to end ({label or url}), {shards} ingest processes: {got} of {n} QoS 1 "
            f"messages stored in {elapsed:.2f} s → {got / elapsed:,.0f} readings/s "
            f"(publishers and ingest on the same machine; per shard stored "
            f"{', '.join(str(r['stored']) for r in results)}; devices per shard "
            f"{', '.join(str(r['devices']) for r in ready)})"
            f"{'' if got == n else f'; {n - got} LOST at the broker'}"
        )
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
            p.wait(30)
        forget_sessions(url, [Shard(i, shards).client_id(f"bench-ingest-{run}") for i in range(shards)])


def private_mosquitto():
    """A Mosquitto tuned for an ingest client that acknowledges after storing."""
    import shutil
    import socket

    binary = shutil.which("mosquitto")
    if binary is None:
        raise SystemExit("--mosquitto needs the mosquitto binary")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="minsheng-sensors-bench-mqtt-")
    TEMP_DIRS.append(workdir)
    conf = os.path.join(workdir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(
            f"listener {port} 127.0.0.1\nallow_anonymous true\n"
            "max_inflight_messages 1000\nmax_queued_messages 1000000\n"
        )
    proc = subprocess.Popen([binary, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, f"mqtt://127.0.0.1:{port}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=30, help="readings per device (throughput)")
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--rate", type=float, default=50_000, help="arrival rate for the latency run")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    ap.add_argument("--alarms", type=int, default=300, help="alarms in the latency run")
    ap.add_argument("--database-url", help="a PostgreSQL server to build a test_… database on")
    ap.add_argument("--mqtt", help="also measure end to end through this broker")
    ap.add_argument(
        "--mosquitto", action="store_true", help="also measure end to end through a private, tuned Mosquitto"
    )
    ap.add_argument("--mqtt-n", type=int, default=20_000)
    ap.add_argument(
        "--one-thread", action="store_true", help="store in the judging thread (no overlap), for comparison"
    )
    ap.add_argument(
        "--shards", type=int, default=1, help="run the throughput (and MQTT) measurement in N processes"
    )
    # A sharded run's children (started by the parent, not by hand):
    ap.add_argument(
        "--sustained",
        action="store_true",
        help="the paced run does the ingest loop's other work too (tick, roll-ups, "
        "hand-over, commands) on the wall clock",
    )
    ap.add_argument("--child", choices=("throughput", "paced", "mqtt"), help=argparse.SUPPRESS)
    ap.add_argument("--shard", help=argparse.SUPPRESS)
    ap.add_argument("--mqtt-url", help=argparse.SUPPRESS)
    ap.add_argument("--prefix", help=argparse.SUPPRESS)
    ap.add_argument("--run", help=argparse.SUPPRESS)
    args = ap.parse_args()
    gc.set_threshold(100_000, 50, 100)  # as `minsheng sensors` sets it
    if args.child:
        os.environ["DATABASE_URL"] = args.database_url
        setup(args.database_url)
        if args.child == "throughput":
            child_throughput(args.shard, args.devices, args.rounds, args.batch, not args.one_thread)
        elif args.child == "paced":
            child_paced(
                args.shard,
                args.devices,
                args.seconds,
                args.rate,
                args.batch,
                args.alarms,
                not args.one_thread,
                args.sustained,
            )
        else:
            child_mqtt(args.shard, args.mqtt_url, args.prefix, args.run)
        return
    setup(args.database_url)

    from django.db import connection

    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=False, serialize=False
    )
    try:
        print(
            f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
            f"{connection.vendor}, Django {__import__('django').get_version()}, "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d}"
        )
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        sims = make_devices(args.devices)
        if args.shards > 1:
            sharded_throughput(args, args.shards)
            sharded_paced(args, args.shards)
        else:
            throughput(sims, args.rounds, args.batch, not args.one_thread)
            latency(
                sims, args.seconds, args.rate, args.batch, args.alarms, not args.one_thread, args.sustained
            )

        def end_to_end(url: str, label: str = "") -> None:
            if args.shards > 1:
                sharded_mqtt_end_to_end(args, url, args.mqtt_n, args.shards, label)
            else:
                mqtt_end_to_end(url, args.mqtt_n, label)

        if args.mqtt:
            end_to_end(args.mqtt)
        if args.mosquitto:
            proc, url = private_mosquitto()
            try:
                end_to_end(url, "private Mosquitto, max_inflight_messages 1000")
            finally:
                proc.terminate()
                proc.wait(10)
    finally:
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        connection.creation.destroy_test_db(old_name, verbosity=0)
        import shutil

        for path in TEMP_DIRS:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
