"""Ingest (数据接入): readings in, stored once, judged, and alarms turned into work orders.

Two ways in, one pipeline:

* MQTT (:mod:`.mqtt`): devices publish telemetry and command acknowledgements;
  :class:`MqttIngest` keeps a persistent session and acknowledges a message to the broker
  only after its batch is stored. At least once on the wire, exactly once in the table.
* HTTP (:mod:`.http`): gateways that cannot speak MQTT post batches to
  ``/api/v1/sensors/readings``; the web process validates and stores them
  (:func:`accept_http_batch`) and hands them over (``InboundBatch``) to the ingest process,
  which owns the detectors' state.

The modules, by job:

* :mod:`.parse`: a payload and a topic checked, and what is refused counted by reason
  (``Rejected``, ``Counters``); whatever comes in broken never stops the loop or opens a
  case.
* :mod:`.pipeline`: :class:`Pipeline` (store → detect → act): the registry of devices and
  their detectors, intake, the alarm actions, the periodic work (``tick``);
  :func:`run_http_only`, the loop without a broker.
* :mod:`.writer`: :class:`StorageWriter`, the writer thread.
* :mod:`.chores`: :class:`Chores`, the chores thread, and the hourly job it runs.
* :mod:`.mqtt`: :class:`BrokerAddress`, :func:`make_client`, :class:`MqttIngest`.
* :mod:`.http`: :func:`accept_http_batch`, the HTTP endpoint's work.

The ingest process's threads:

* **The loop's thread** (``MqttIngest.run``, or ``run_http_only``) drives the pipeline and
  is the only one that touches the detectors: it takes the messages paho's network thread
  queued (that thread only queues them and subscribes on connect), parses and judges each
  batch, acknowledges stored batches to the broker in order, polls commands and the HTTP
  hand-overs, and runs the periodic work. It never waits for the database on a batch.
* **The writer thread** (:class:`StorageWriter`, its own connection) stores each batch,
  then runs, in order after it, the alarm actions the batch raised, the writes of the
  status cache and SQLite's compaction. A batch counts as stored (and is acknowledged)
  only when its future is done.
* **The chores thread** (:class:`Chores`, its own connection) runs the hourly roll-up, the
  retention purge and the baselines' reads, which take seconds for a big network; the
  loop's thread applies what a job read to the detectors on a later tick.

Without a writer or chores (tests, tools) the pipeline does all of it in the calling thread.
"""

from .chores import Chores
from .http import accept_http_batch
from .mqtt import BrokerAddress, MqttIngest, make_client, topic_prefix
from .pipeline import Pipeline, run_http_only
from .writer import StorageWriter

__all__ = [
    "BrokerAddress",
    "Chores",
    "MqttIngest",
    "Pipeline",
    "StorageWriter",
    "accept_http_batch",
    "make_client",
    "run_http_only",
    "topic_prefix",
]
