"""SQLite's writers wait in a queue (``minsheng.core.sqlite``), not in SQLite's busy handler:
the next writer begins as soon as the one before commits or rolls back, and one that waits
longer than the connection's timeout is left to SQLite as before."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from minsheng.core.sqlite.base import DatabaseWrapper

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own backend"),
    pytest.mark.django_db(transaction=True),
]


def queue_taken() -> bool:
    """Does a writer hold the queue's lock (the file beside the database)?"""
    fd = os.open(f"{connection.settings_dict['NAME']}.writers", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def other_writer(events: list[str], began: threading.Event) -> threading.Thread:
    """A writer on its own connection (a thread has its own) that notes when it began."""

    def run() -> None:
        try:
            began.set()
            with transaction.atomic():
                events.append("second began")
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_the_next_writer_begins_when_the_one_before_ends(end):
    assert isinstance(connections["default"], DatabaseWrapper)
    events: list[str] = []
    began = threading.Event()
    second = other_writer(events, began)
    try:
        with transaction.atomic():
            second.start()
            began.wait(5)
            second.join(0.2)  # it waits for this transaction, however long it lasts
            assert second.is_alive() and events == []
            assert queue_taken()
            events.append("first ends")
            if end == "rollback":
                transaction.set_rollback(True)
    finally:
        second.join(10)
    assert events == ["first ends", "second began"]
    assert not queue_taken()


def test_a_writer_that_waits_past_the_timeout_is_left_to_sqlite():
    options = {**connection.settings_dict["OPTIONS"], "timeout": 0.05}
    late = DatabaseWrapper({**connection.settings_dict, "OPTIONS": options}, alias="late")
    try:
        with transaction.atomic():
            with pytest.raises(OperationalError, match="locked"):
                late.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
            assert not late._holding
    finally:
        late.close()
