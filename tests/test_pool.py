"""The pool of query processes, with real processes on the real release: a killed process's
place is taken at once by a ready standby, a waiter that may take a freed process is woken
whoever else waits, work that keeps a reserve leaves the ready processes to favoured work,
and a process that ended by itself is said in the log.

Nothing here asserts a time: the tests look at which process answered and what was logged.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from kg.config import Config
from kg.served.pool import QueryPool, QueryTimeout
from kg.served.wire import Job

#: long work in little memory: a count over a cross product of the graph with itself
COSTLY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f }"


def _query(text: str) -> Job:
    return Job("query", (text, "json", (), (), True, 100, 1 << 20, None, {}))


CHEAP = _query("ASK { ?s ?p ?o }")


@pytest.fixture
def settings(release, config: Config) -> str:
    return config.to_json()


def _ready_standby(pool: QueryPool) -> int:
    """The pid of the pool's standby, once it has opened the store."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        standby = pool._standby
        if standby is not None and standby.said_ready(0.1):
            return standby.process.pid
        time.sleep(0.1)
    raise AssertionError("the standby process did not start")


def test_a_killed_process_is_replaced_by_the_ready_standby(settings: str):
    pool = QueryPool(settings, 1, standby=True)
    try:
        assert pool.run(CHEAP, 60).status == "ok"
        standby = _ready_standby(pool)
        with pytest.raises(QueryTimeout):
            pool.run(_query(COSTLY), 1.0)
        # the standby took the killed process's place, ready; a new standby is starting
        assert [p.process.pid for p in pool._idle] == [standby]
        assert pool._idle[0].said_ready()
        assert pool.run(CHEAP, 60).status == "ok"
        assert _ready_standby(pool) != standby
    finally:
        pool.close()


def test_a_waiter_that_may_take_a_freed_process_is_woken(settings: str):
    """Two processes, busy; a waiter that keeps a reserve of one waits first, then one that
    does not. When a process is freed (killed and replaced), the second must get it: waking
    only the first, which may not take the pool's last idle process, would leave the second
    waiting to its deadline."""
    pool = QueryPool(settings, 2)
    try:
        assert pool.run(CHEAP, 60).status == "ok"
        _all_ready(pool, 2)
        outcomes: dict[str, object] = {}

        def wait(name: str, reserve: int, timeout: float) -> None:
            try:
                outcomes[name] = pool.run(CHEAP, timeout, reserve=reserve).status
            except QueryTimeout as e:
                outcomes[name] = "waited" if e.waited else "timeout"

        busy = [threading.Thread(target=lambda seconds=seconds: outcomes.update(
            {f"busy {seconds}": pytest.raises(QueryTimeout, pool.run, _query(COSTLY),
                                              seconds)}))
            for seconds in (3.0, 12.0)]
        for thread in busy:
            thread.start()
        time.sleep(1.0)
        keeps_reserve = threading.Thread(target=wait, args=("keeps a reserve", 1, 7.0))
        keeps_reserve.start()
        time.sleep(0.3)
        takes = threading.Thread(target=wait, args=("takes", 0, 20.0))
        takes.start()
        takes.join(60)
        assert outcomes["takes"] == "ok"
        # one process stays busy: the other is the last idle one, which it may not take
        keeps_reserve.join(60)
        assert outcomes["keeps a reserve"] == "waited"
        for thread in busy:
            thread.join(60)
    finally:
        pool.close()


def _all_ready(pool: QueryPool, size: int) -> None:
    deadline = time.monotonic() + 120
    while not (len(pool._idle) == size and all(p.said_ready(0.1) for p in pool._idle)):
        assert time.monotonic() < deadline, "the pool's processes did not start"
        time.sleep(0.1)


def test_a_reserve_leaves_the_ready_process_and_takes_one_still_starting(settings: str):
    """After a kill, one process is ready and its replacement is starting: work that keeps a
    reserve of one takes the starting one (and waits for it), so that favoured work (a
    lookup from a new client) finds the ready one at once. A pool of one keeps no reserve."""
    pool = QueryPool(settings, 2)
    try:
        _all_ready(pool, 2)
        with pytest.raises(QueryTimeout):
            pool.run(_query(COSTLY), 1.0)
        [survivor] = [p for p in pool._idle if p.said_ready()]
        starting = pool._take(time.monotonic() + 60, 1)
        assert starting is not survivor
        assert pool._take(time.monotonic() + 60, 0) is survivor
        for process in (starting, survivor):
            pool._give_back(process)
        assert pool.run(CHEAP, 60, reserve=1).status == "ok"
    finally:
        pool.close()
    alone = QueryPool(settings, 1)
    try:
        assert alone.run(CHEAP, 60, reserve=2).status == "ok"
    finally:
        alone.close()


def test_a_process_that_ended_by_itself_is_said_in_the_log(settings: str,
                                                            caplog: pytest.LogCaptureFixture):
    pool = QueryPool(settings, 1)
    try:
        assert pool.run(CHEAP, 60).status == "ok"
        crashed = pool._idle[0].process.pid
        os.kill(crashed, signal.SIGSEGV)
        time.sleep(0.5)
        with caplog.at_level(logging.WARNING, logger="kg.served.pool"):
            assert pool.run(CHEAP, 60).status == "ok"  # on a fresh process
        assert f"query process {crashed} ended by itself (SIGSEGV)" in caplog.text
    finally:
        pool.close()
