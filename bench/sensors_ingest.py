"""How many readings per second go through ingest + detection, and how long from the
reading that completes an alarm to its work order (alarm-to-case latency)?

Why: seed 001's outfall devices are the start; a city's whole network (outfalls, pumping
stations, pipe nodes, rural sewage stations) is thousands of devices reporting every
minute or faster, and the 15-minute response clock starts only when the case exists.
Targets: 50,000 readings/s sustained in batches with 10,000 devices; alarm-to-case p99
under 1 s.

What is timed is the ingest process's own work per batch, exactly as ``MqttIngest.handle``
does it: JSON decoding, validation (``Pipeline.accept``), storage (``storage.write``, one
``bulk_create`` per batch, unique on (device, ts)), detection (every rule of every device),
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

It builds a throw-away database (SQLite in a temporary directory, or a ``test_…`` database
next to the one ``--database-url`` names) and removes it afterwards. Results go into
docs/sensors.md by hand, with the machine they ran on.

    .venv/bin/python bench/sensors_ingest.py
    .venv/bin/python bench/sensors_ingest.py --devices 2000 --rounds 5   # quicker
    .venv/bin/python bench/sensors_ingest.py --database-url postgresql://postgres@127.0.0.1/minsheng
    .venv/bin/python bench/sensors_ingest.py --mqtt mqtt://127.0.0.1:1883
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


RAIN = {"hold_seconds": 0, "clear_seconds": 300, "silence": {"minutes": 30}, "quantities": {
    "flow": {"dry_weather": {"max": 0.5}}, "level": {"threshold": {}}, "cod": {"threshold": {}}}}
NODE = {"hold_seconds": 0, "clear_seconds": 300, "silence": {"minutes": 30}, "quantities": {
    "level": {"threshold": {}}, "flow": {"rate": {"max_rise": 60, "window_seconds": 300},
                                         "baseline": {"k": 8, "min_samples": 7, "floor": 5}}}}


def make_devices(n: int):
    from minsheng.accounts.models import Unit, UnitKind
    from minsheng.catalog.models import Matter
    from minsheng.core import clock
    from minsheng.sensors.models import Device, DeviceKind, DeviceType
    from minsheng.sensors.simulator import SimDevice

    unit = Unit.objects.create(code="swjt", name="水务集团", kind=UnitKind.DEPARTMENT)
    Unit.objects.create(code="centre", name="社会治理中心", kind=UnitKind.CENTRE)
    Matter.objects.create(code="water.outfall", name="排口流量或水质异常", owner_unit=unit)
    rain = DeviceType.objects.create(code="rain", name="雨水排口", kind=DeviceKind.OUTFALL,
                                     quantities=["flow", "level", "cod"], has_valve=True,
                                     normal_ranges={"level": [None, 1.0], "cod": [None, 100]},
                                     rules=RAIN)
    node = DeviceType.objects.create(code="node", name="管网节点", kind=DeviceKind.SEWAGE_NODE,
                                     quantities=["flow", "level"],
                                     normal_ranges={"level": [None, 1.5]}, rules=NODE)
    now = clock.now()
    rows, sims = [], []
    for i in range(n):
        is_rain = i % 10 < 3
        device_id = f"bench-{i:05d}"
        rows.append(Device(device_id=device_id, name=f"设备{i}", owner_unit=unit,
                           kind=(rain if is_rain else node).kind,
                           device_type=rain if is_rain else node, created_at=now,
                           lat=30.6 + (i % 100) * 0.002, lng=120.9 + (i // 100) * 0.002))
        sims.append(SimDevice(device_id, profile="rain_outfall" if is_rain else "sewage",
                              base_flow=6.0 if is_rain else 40.0, has_valve=is_rain,
                              quantities=("flow", "level", "cod") if is_rain else ("flow", "level")))
    Device.objects.bulk_create(rows, batch_size=1000)
    return sims


def baseline_history(pipeline) -> None:
    """Four weeks of same-hour means, as the hourly job would load them from roll-ups."""
    from minsheng.sensors.detection import BaselineCheck
    from minsheng.sensors.simulator import diurnal

    history = {h: [40.0 * diurnal(h) * (1 + 0.03 * ((d % 5) - 2)) for d in range(28)]
               for h in range(24)}
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
            world.inject(device_id, "discharge" if d.profile == "rain_outfall" else "overflow",
                         None, start)
        t = start + r * step
        out.append([(d.device_id, telemetry(d, t + (i % 97) * 0.01, world.reading(d, t)))
                    for i, d in enumerate(devices)])
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


def make_pipeline(overlap: bool, **kw):
    from minsheng.sensors.ingest import Pipeline, StorageWriter

    return Pipeline(writer=StorageWriter() if overlap else None, **kw)


def throughput(sims, rounds: int, batch_size: int, overlap: bool) -> None:
    from minsheng.cases.models import Case
    from minsheng.core import clock
    from minsheng.sensors import storage
    from minsheng.sensors.simulator import World

    world = World(sims, seed=1)
    n = len(sims)
    step = 60.0
    start = clock.now().timestamp() - rounds * step - 60
    anomalous = [s.device_id for s in sims[:: max(1, n // max(1, n // 500))]][: max(1, n // 500)]
    t_gen = time.perf_counter()
    rounds_msgs = generate(world, rounds, start, step, {rounds // 2: anomalous})
    gen_s = time.perf_counter() - t_gen
    pipeline = make_pipeline(overlap)
    pipeline.load()
    baseline_history(pipeline)
    pipeline.freeze()
    pipeline.ctx.dry = True
    now_t = clock.now().timestamp()
    done = 0
    t0 = time.perf_counter()
    for msgs in rounds_msgs:
        for i in range(0, len(msgs), batch_size):
            done += ingest_batch(pipeline, msgs[i:i + batch_size], now_t)
            maybe_flush(pipeline)
    pipeline.flush_status()
    drain()
    elapsed = time.perf_counter() - t0
    cases = Case.objects.count()
    print(f"throughput{' (storing beside judging)' if overlap else ' (one thread)'}: {n} devices "
          f"× {rounds} readings = {done} readings in {elapsed:.2f} s "
          f"→ {done / elapsed:,.0f} readings/s (batches of {batch_size}; generating them took "
          f"{gen_s:.1f} s, not timed); stored {storage.count()}, alarms raised "
          f"{pipeline.alarms_raised}, cases opened {cases}")
    # Where the time goes, on one more round of the same size.
    msgs = generate(world, 1, start + rounds * step, step, {})[0]
    parse_s = store_s = detect_s = 0.0
    for i in range(0, len(msgs), batch_size):
        chunk = msgs[i:i + batch_size]
        a = time.perf_counter()
        items = [pipeline.accept(d, json.loads(p), now_t, "mqtt") for d, p in chunk]
        b = time.perf_counter()
        storage.write([(e.pk, ts, v) for e, ts, _t, v in items])
        c = time.perf_counter()
        pipeline.process(items, store=False)
        parse_s, store_s, detect_s = parse_s + b - a, store_s + c - b, detect_s + time.perf_counter() - c
    pipeline.close()
    total = parse_s + store_s + detect_s
    print(f"  per reading: decode+validate {parse_s / len(msgs) * 1e6:.1f} µs, "
          f"store {store_s / len(msgs) * 1e6:.1f} µs, detect {detect_s / len(msgs) * 1e6:.1f} µs "
          f"({len(msgs) / total:,.0f} readings/s on this round)")


def latency(sims, seconds: float, rate: int, batch_size: int, n_alarms: int,
            overlap: bool) -> None:
    from minsheng.cases.models import Case
    from minsheng.core import clock
    from minsheng.sensors.models import Alarm
    from minsheng.sensors.simulator import World

    world = World(sims, seed=2)
    n = len(sims)
    per_round = n
    rounds = max(2, int(seconds * rate / per_round))
    step = 60.0
    start = clock.now().timestamp() - rounds * step - 60
    # Devices that have not alarmed yet, a few injected in every round after the first.
    quiet = [s.device_id for s in sims if not Alarm.objects.filter(device__device_id=s.device_id)
             .exists()]
    per = max(1, n_alarms // (rounds - 1))
    schedule = {r: quiet[(r - 1) * per: r * per] for r in range(1, rounds)}
    msgs_by_round = generate(world, rounds, start, step, schedule)
    samples: list[float] = []
    arrival = [0.0]

    def on_alarm(f, _since_start: float) -> None:
        if f.raised:  # from the moment its batch had arrived (was due), to the committed case
            samples.append(time.perf_counter() - arrival[0])

    pipeline = make_pipeline(overlap, on_alarm=on_alarm)
    pipeline.load()
    baseline_history(pipeline)
    pipeline.freeze()
    pipeline.ctx.dry = True
    now_t = clock.now().timestamp()
    cases_before = Case.objects.count()
    flat = [m for msgs in msgs_by_round for m in msgs]
    total = len(flat)
    window = max(1, int(rate * WINDOW_S))
    biggest = 0
    pos = 0
    t0 = time.perf_counter()
    while pos < total:
        # What MqttIngest.drain does: wait for the first message, gather for 20 ms, take
        # at most --batch; a loop that fell behind gets bigger batches.
        arrived = min(total, int((time.perf_counter() - t0) * rate))
        if arrived < min(total, pos + window):
            time.sleep(max(0.0, t0 + min(total, pos + window) / rate - time.perf_counter()))
            arrived = min(total, int((time.perf_counter() - t0) * rate))
        end = min(arrived, pos + batch_size)
        arrival[0] = t0 + pos / rate  # the batch's first reading: the longest wait in it
        ingest_batch(pipeline, flat[pos:end], now_t)
        biggest = max(biggest, end - pos)
        pos = end
        maybe_flush(pipeline)
    pipeline.flush_status()
    drain()
    elapsed = time.perf_counter() - t0
    pipeline.close()
    samples.sort()
    opened = Case.objects.count() - cases_before
    if not samples:
        print("latency: no alarms fired")
        return
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] * 1000  # noqa: E731
    print(f"latency: {total} readings arriving at {rate:,}/s for {total / rate:.0f} s, taken in "
          f"20 ms windows up to {batch_size} (largest batch {biggest}); all handled "
          f"{elapsed - total / rate:.1f} s after the last arrived; {len(samples)} alarms, "
          f"{opened} cases opened; alarm-to-case p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, "
          f"max {samples[-1] * 1000:.0f} ms (mean {statistics.mean(samples) * 1000:.0f} ms)")


def mqtt_end_to_end(url: str, n: int, label: str = "") -> None:
    """Through a real broker: a publisher process sends ``n`` QoS 1 messages; the ingest
    loop here stores and judges them and acknowledges them after storing."""
    from minsheng.sensors import storage
    from minsheng.sensors.ingest import BrokerAddress, MqttIngest, Pipeline

    run = uuid.uuid4().hex[:8]
    prefix = f"minsheng-bench-{run}/sensors"
    pipeline = Pipeline()
    ingest = MqttIngest(pipeline, BrokerAddress.parse(url), client_id=f"bench-ingest-{run}",
                        prefix=prefix)
    stop = threading.Event()
    thread = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    before = storage.count()
    thread.start()
    ingest.connected.wait(10)
    time.sleep(0.5)
    # Publishers in C (mosquitto_pub -l, one line a message), one per device, QoS 1: a
    # Python publisher is slower than the ingest loop and would measure itself.
    import shutil

    tool = shutil.which("mosquitto_pub")
    if tool is None:
        raise SystemExit("the MQTT run needs mosquitto_pub")
    address = BrokerAddress.parse(url)
    publishers = 4
    workdir = tempfile.mkdtemp(prefix="minsheng-sensors-bench-pub-")
    TEMP_DIRS.append(workdir)
    t_start = time.time() - 3600
    files = []
    for k in range(publishers):
        path = os.path.join(workdir, f"p{k}.txt")
        with open(path, "w") as f:
            for i in range(n // publishers):
                ts = dt.datetime.fromtimestamp(t_start + i * 0.001, tz=dt.UTC).isoformat()
                f.write(json.dumps({"ts": ts, "values": {"flow": 1.0, "level": 0.3}}) + "\n")
        files.append(path)
    t0 = time.perf_counter()
    pubs = []
    for k, path in enumerate(files):
        with open(path, "rb") as stdin:
            pubs.append(subprocess.Popen(
                [tool, "-h", address.host, "-p", str(address.port), "-q", "1", "-l",
                 "-t", f"{prefix}/bench-{k:05d}/telemetry"], stdin=stdin))
    n = (n // publishers) * publishers

    class Pub:  # the publishers as one
        @staticmethod
        def poll():
            return None if any(p.poll() is None for p in pubs) else 0

        @staticmethod
        def wait(timeout):
            for p in pubs:
                p.wait(timeout)

    pub = Pub()
    deadline = time.monotonic() + 120
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        got = storage.count() - before
        if got >= n:
            break
        if got != last:
            last, last_change = got, time.monotonic()
        elif pub.poll() is not None and time.monotonic() - last_change > 5:
            break  # the publisher is done and nothing more arrives: the rest is lost
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    pub.wait(30)
    stop.set()
    thread.join(10)
    got = storage.count() - before
    print(f"mqtt end to end ({label or url}): {got} of {n} QoS 1 messages stored in "
          f"{elapsed:.2f} s → {got / elapsed:,.0f} readings/s (publisher and ingest on the "
          f"same machine){'' if got == n else f'; {n - got} LOST at the broker'}")


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
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                "max_inflight_messages 1000\nmax_queued_messages 1000000\n")
    proc = subprocess.Popen([binary, "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, f"mqtt://127.0.0.1:{port}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=30, help="readings per device (throughput)")
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--rate", type=int, default=50_000, help="arrival rate for the latency run")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    ap.add_argument("--alarms", type=int, default=300, help="alarms in the latency run")
    ap.add_argument("--database-url", help="a PostgreSQL server to build a test_… database on")
    ap.add_argument("--mqtt", help="also measure end to end through this broker")
    ap.add_argument("--mosquitto", action="store_true",
                    help="also measure end to end through a private, tuned Mosquitto")
    ap.add_argument("--mqtt-n", type=int, default=20_000)
    ap.add_argument("--one-thread", action="store_true",
                    help="store in the judging thread (no overlap), for comparison")
    args = ap.parse_args()
    setup(args.database_url)
    gc.set_threshold(100_000, 50, 100)  # as `minsheng sensors` sets it

    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False,
                                                   serialize=False)
    try:
        print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
              f"{connection.vendor}, Django {__import__('django').get_version()}, "
              f"{dt.datetime.now(dt.UTC):%Y-%m-%d}")
        sims = make_devices(args.devices)
        throughput(sims, args.rounds, args.batch, not args.one_thread)
        latency(sims, args.seconds, args.rate, args.batch, args.alarms, not args.one_thread)
        if args.mqtt:
            mqtt_end_to_end(args.mqtt, args.mqtt_n)
        if args.mosquitto:
            proc, url = private_mosquitto()
            try:
                mqtt_end_to_end(url, args.mqtt_n,
                                "private Mosquitto, max_inflight_messages 1000")
            finally:
                proc.terminate()
                proc.wait(10)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        import shutil

        for path in TEMP_DIRS:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
