"""The writer thread: :class:`StorageWriter` stores the pipeline's batches in a thread of
its own, and runs there, in order after each batch, the alarms it raised and the writes of
the status cache. :class:`OwnThread` is the small base it shares with the chores thread.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection

from .. import storage
from ..shards import Shard


class OwnThread:
    """Work in one thread of its own, in order, on that thread's own database connection."""

    def __init__(self, name: str, initializer: Callable[[], None] | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name, initializer=initializer)

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        return self._pool.submit(fn)

    def close(self) -> None:
        # The lambda looks the connection up in the pool's thread (it has its own).
        self._pool.submit(lambda: connection.close()).result()
        self._pool.shutdown(wait=True)


class StorageWriter(OwnThread):
    """Stores batches in a thread of its own, so that writing batch N (mostly database
    work, during which the driver releases the GIL) overlaps judging batch N+1 on the
    other core. Callers acknowledge a batch to the broker only when its future is done."""

    def __init__(self, compact_after: int | None = storage.COMPACT_ROWS) -> None:
        super().__init__("sensors-store", storage.tune_for_ingest)
        # SQLite: after this many readings of its own, the writer moves the landed ones on
        # (storage.compact). With shards only shard 0's writer does, for all of them: each
        # move rewrites a page per device, so fewer, bigger moves cost less. (Shard 0's
        # tick also moves them every storage.COMPACT_S, whoever stored them.)
        self.compact_after = compact_after
        self._since_compact = 0  # touched in the writer's thread only

    @classmethod
    def for_shard(cls, shard: Shard) -> StorageWriter:
        return cls(storage.COMPACT_ROWS // shard.count if shard.leads else None)

    def submit(self, rows: list[storage.Row]) -> Future[int]:
        return self._pool.submit(self._store, rows)

    def _store(self, rows: list[storage.Row]) -> int:
        n = storage.write(rows)
        if self.compact_after is not None:
            self._since_compact += n
            if self._since_compact >= self.compact_after:
                self._since_compact = 0
                storage.compact()
        return n

    def then(self, stored: Future[Any], fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` in the writer's thread after ``stored`` (one thread, in order: it has
        finished by then). ``fn`` runs even if storing failed (an alarm must not wait for a
        disk), and the returned future then fails too, so that the batch waiting on it is
        not acknowledged and the broker delivers it again to be stored."""

        def after() -> Any:
            try:
                return fn()
            finally:
                stored.result()

        return self._pool.submit(after)
