"""The floor of a bounded query: the bare app with each query run in a query process.

``BARE_STORE=<oxigraph folder> gunicorn -w 2 isolated_app:app``: the bare app
(``bench/bare_app.py``: GET /sparql?query=... answers SPARQL JSON over the union of the
named graphs, nothing else) whose queries run in a few processes per web worker, so that
one running past its time limit can be killed (neither pyoxigraph nor any other engine
in Python can stop a query otherwise). What it adds to the bare app is what any design
that keeps that bound pays per request: the query and its answer copied through pipes,
the wait for the answer with a deadline, the switch between processes. No negotiation,
limits per client, logging or ETags: what our endpoint's own features cost is measured
against this one, and this one against the bare app.

``python bench/isolated_app.py`` is a query process: length-prefixed query texts on
standard input, length-prefixed answers on standard output.
"""

from __future__ import annotations

import os
import queue
import select
import struct
import subprocess
import sys
import threading
import time

HEADER = struct.Struct("!I")
#: the length a query process sends instead of an answer's when the query failed
FAILED = 0xFFFFFFFF
#: query processes per web worker (ours keeps 4 in its SPARQL lane)
PROCESSES = int(os.environ.get("ISOLATED_PROCESSES", "4"))
#: seconds a query may run before its process is killed and replaced
TIMEOUT = 30.0


def child() -> None:
    import pyoxigraph as ox

    store = ox.Store.read_only(os.environ["BARE_STORE"])
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    while head := jobs.read(HEADER.size):
        (size,) = HEADER.unpack(head)
        text = jobs.read(size).decode("utf-8")
        try:
            body = store.query(text, use_default_graph_as_union=True).serialize(
                format=ox.QueryResultsFormat.JSON)
            answers.write(HEADER.pack(len(body)) + body)
        except (SyntaxError, ValueError, RuntimeError) as e:
            message = str(e).encode("utf-8")
            answers.write(HEADER.pack(FAILED) + HEADER.pack(len(message)) + message)
        answers.flush()


if __name__ == "__main__":
    child()
    sys.exit(0)

from flask import Flask, Response, request  # noqa: E402  (the web side only)

app = Flask(__name__)
_idle: queue.SimpleQueue[subprocess.Popen[bytes]] | None = None
_lock = threading.Lock()


class Timeout(Exception):
    pass


def _start() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)


def _pool() -> queue.SimpleQueue[subprocess.Popen[bytes]]:
    """The worker's query processes, started with its first request (after the fork)."""
    global _idle
    with _lock:
        if _idle is None:
            _idle = queue.SimpleQueue()
            for _ in range(PROCESSES):
                _idle.put(_start())
    return _idle


def _read(fd: int, size: int, deadline: float) -> bytes:
    data = b""
    while len(data) < size:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise Timeout
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise Timeout
        data += chunk
    return data


@app.get("/sparql")
def sparql() -> Response:
    idle = _pool()
    process = idle.get()
    assert process.stdin is not None and process.stdout is not None
    deadline = time.monotonic() + TIMEOUT
    try:
        text = request.args["query"].encode("utf-8")
        os.write(process.stdin.fileno(), HEADER.pack(len(text)) + text)
        fd = process.stdout.fileno()
        (size,) = HEADER.unpack(_read(fd, HEADER.size, deadline))
        if size == FAILED:
            (size,) = HEADER.unpack(_read(fd, HEADER.size, deadline))
            return Response(_read(fd, size, deadline), status=400, mimetype="text/plain")
        body = _read(fd, size, deadline)
    except Timeout:
        process.kill()
        process.wait()
        process = _start()
        return Response("the query ran past its time limit\n", status=503,
                        mimetype="text/plain")
    finally:
        idle.put(process)
    return Response(body, content_type="application/sparql-results+json")
