"""Django's SQLite backend, with writers queued instead of polling.

SQLite lets one transaction write at a time. Django opens every transaction with ``BEGIN
IMMEDIATE`` (settings), so a second writer waits at ``BEGIN``; but it waits in SQLite's busy
handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100… ms between tries, so the
write lock often stands free while the next writer is still asleep. Under intake's load (four
server threads, transactions of a few milliseconds) that idle time was most of the time.

Here a writer first takes an exclusive ``flock`` on a file beside the database
(``<db>.writers``), shared by every thread and process that opens it (the server's, the
worker's), and only then begins. A waiter tries again after 0.1 ms, then 0.2, 0.4 and every
millisecond, so the lock stands free for a millisecond at most. It is let go at COMMIT, at
ROLLBACK and when the connection closes, and by the kernel if a process dies. A writer that
cannot have it within the connection's ``timeout`` begins anyway and is left to SQLite's own
busy handler, as before, so nothing waits forever behind a stuck process. A statement run
outside a transaction (autocommit) takes no place in the queue; SQLite still locks it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from typing import Any

from django.db.backends.sqlite3 import base, creation

FIRST_WAIT_S = 0.0001  # how long a waiter sleeps first; it doubles up to LONGEST_WAIT_S
LONGEST_WAIT_S = 0.001


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        """A test database goes with its queue file."""
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{test_database_name}.writers")


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    # The transaction hooks overridden below are not in django-stubs: hence the ignores.
    _writers: int | None = None  # the queue file's descriptor while the connection is open
    _holding = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            self._writers = os.open(f"{self.settings_dict['NAME']}.writers", os.O_RDWR | os.O_CREAT, 0o600)
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        self._queue()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._leave()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._leave()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._leave()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._leave()
            if self._writers is not None:
                os.close(self._writers)
                self._writers = None

    def _queue(self) -> None:
        """Wait for the writers before this one (at most the connection's timeout)."""
        if self._writers is None or self._holding:
            return
        try:
            fcntl.flock(self._writers, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:
            self._holding = True
            return
        # Sleeps of a fraction of a millisecond, not a blocking flock: a blocking one could
        # not give up after the timeout.
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 5))
        wait = FIRST_WAIT_S
        while time.monotonic() < deadline:
            time.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_S)
            try:
                fcntl.flock(self._writers, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            self._holding = True
            return

    def _leave(self) -> None:
        if self._holding and self._writers is not None:
            fcntl.flock(self._writers, fcntl.LOCK_UN)
        self._holding = False
