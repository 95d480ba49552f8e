"""The index's readers-writer lock: readers share, writers exclude, a save lets searches through."""

from __future__ import annotations

import threading
import time

import pytest

from clipdesk.core.index import RWLock


def test_rwlock_lets_readers_share_and_writers_exclude():
    lock = RWLock()
    inside = []
    both_readers_in = threading.Barrier(2, timeout=5)

    def reader():
        with lock.read():
            inside.append("r")
            both_readers_in.wait()  # would time out if readers excluded each other

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert inside == ["r", "r"]

    active = {"writers": 0, "readers": 0, "violations": 0}
    guard = threading.Lock()

    def writer():
        for _ in range(200):
            with lock.write():
                with guard:
                    active["writers"] += 1
                    if active["writers"] > 1 or active["readers"]:
                        active["violations"] += 1
                with guard:
                    active["writers"] -= 1

    def reader2():
        for _ in range(200):
            with lock.read():
                with guard:
                    active["readers"] += 1
                    if active["writers"]:
                        active["violations"] += 1
                with guard:
                    active["readers"] -= 1

    threads = [threading.Thread(target=f) for f in (writer, writer, reader2, reader2, reader2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert active["violations"] == 0


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


@pytest.mark.parametrize("long_reader", [False, True], ids=["search", "save"])
def test_waiting_writer_holds_back_new_readers_unless_a_save_holds_the_lock(long_reader):
    lock = RWLock()
    holder_release = threading.Event()
    writer_done = threading.Event()
    reader_in = threading.Event()

    def holder():
        with lock.read(long=long_reader):
            holder_release.wait(10)

    def writer():
        with lock.write():
            writer_done.set()

    def late_reader():
        with lock.read():
            reader_in.set()

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    assert _wait_for(lambda: lock._readers == 1)
    threads.append(threading.Thread(target=writer))
    threads[1].start()
    assert _wait_for(lambda: lock._writers_waiting == 1)
    threads.append(threading.Thread(target=late_reader))
    threads[2].start()
    # Behind a waiting writer a search waits; beside a save (which the writer
    # must wait for anyway) it goes ahead.
    assert reader_in.wait(0.3) is long_reader
    assert not writer_done.is_set()
    holder_release.set()
    for t in threads:
        t.join(10)
    assert writer_done.is_set() and reader_in.is_set()

