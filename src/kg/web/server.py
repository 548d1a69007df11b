"""Running the app under gunicorn, the production WSGI server.

Before it says it is serving, :func:`serve` has a query process open the current version
and answer, as every web worker's pool will (:func:`check_query_process`): a store that
cannot be opened stops ``kg serve`` with what went wrong, instead of a server whose every
query fails.

Its access log never carries a secret (:class:`AccessLog`), and is written in batches off
the requests' path; a hand-run gunicorn gets the same with
``--logger-class kg.web.server.AccessLog``.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections import deque
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from kg.config import Config
from kg.web.hosts import default_trusted_hosts, untrusted_warning

if TYPE_CHECKING:
    from flask import Flask

#: a query parameter whose name says it may carry a secret, and its value
SECRET_PARAMETER = re.compile(
    r"(?i)(^|[?&;])([^=&;?#\s]*(?:token|key|password|passwd|secret|auth)[^=&;?#\s]*)="
    r"[^&;#\s]*")
#: the atoms (gunicorn's access-log fields) that may hold a URL with query parameters
URL_ATOMS = ("r", "q", "f", "{raw_uri}e", "{query_string}e", "{http_referer}e",
             "{referer}i")
#: the atoms that hold credentials: left out
CREDENTIAL_ATOMS = ("{authorization}i", "{http_authorization}e", "{proxy-authorization}i",
                    "{http_proxy_authorization}e", "{cookie}i", "{http_cookie}e")


#: the words of :data:`SECRET_PARAMETER`: a URL without any of them has nothing to redact
SECRET_WORDS = ("token", "key", "passw", "secret", "auth")


def redact(url: str) -> str:
    """``url`` with the values of parameters that may carry secrets (``token=``,
    ``access_token=``, ``key=``, ``password=``, ``auth=``...) replaced by ``[redacted]``."""
    lowered = url.casefold()  # as the expression's (?i) matches: K (Kelvin) is k, ſ is s
    if not any(word in lowered for word in SECRET_WORDS):
        return url  # the common case, without the expression's search at every position
    return SECRET_PARAMETER.sub(r"\1\2=[redacted]", url)


#: gunicorn's access-log format when none is set (Apache's combined format)
COMBINED_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


#: access lines wait at most this long to be written (a batch is written by a thread of the
#: worker's own), or until this many wait
ACCESS_FLUSH_SECONDS = 0.2
ACCESS_BATCH_LINES = 256


class AccessLog(Logger):
    """gunicorn's logger whose access lines carry no secret: no Basic-auth user name (a
    token sent as one would be logged), no Authorization or Cookie header, and the values
    of query parameters that may carry secrets redacted in the request line, the query
    string and the referrer.

    The combined format (the default) is written from the few fields it shows: gunicorn
    first gathers every request header, response header and WSGI variable of the request
    into its atoms and escapes each (a tenth of a web worker's time on a cheap query).

    Its lines are written in batches, off the requests' path, when the log goes to streams
    or files (``-``, a path): a request only adds its line to those waiting, and a thread
    of the worker writes them every :data:`ACCESS_FLUSH_SECONDS` (a line through Python's
    logging and a write of its own per request was a twentieth of a web worker's time on
    an uncached query, decision 0015). What waits is written when the worker ends and
    before the files are reopened (``SIGUSR1``); a worker killed outright loses at most
    the last 0.2 s of lines. Elsewhere (syslog, a logging configuration) each line goes
    through logging as it comes."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self._combined = cfg.access_log_format == COMBINED_FORMAT
        handlers = self.access_log.handlers
        self._batched = bool(handlers) and all(
            type(h) in (logging.StreamHandler, logging.FileHandler)
            and h.formatter is not None and h.formatter._fmt == self.access_fmt
            for h in handlers)
        self._waiting: deque[str] = deque()
        self._writing = threading.Lock()
        self._writer: int | None = None  # the process whose thread writes the batches

    def access(self, resp: Any, req: Any, environ: dict[str, Any],
               request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        if not self._combined:
            super().access(resp, req, environ, request_time)
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        request = _quoted(redact(f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} "
                                 f"{environ['SERVER_PROTOCOL']}"))
        referrer = _quoted(redact(environ.get("HTTP_REFERER", "-")))
        agent = _quoted(environ.get("HTTP_USER_AGENT", "-"))
        line = (f'{environ.get("REMOTE_ADDR", "-")} - - {self.now()} "{request}" {status} '
                f'{"-" if sent is None else sent} "{referrer}" "{agent}"')
        if not self._batched:
            self._write(line)
            return
        if self._writer != os.getpid():  # the first line of this process (a forked worker)
            self._writer = os.getpid()
            self._writing = threading.Lock()  # of this process's threading (gevent's)
            atexit.register(self.write_waiting)
            threading.Thread(target=self._write_every, name="access-log", daemon=True).start()
        self._waiting.append(line)
        if len(self._waiting) >= ACCESS_BATCH_LINES:
            self.write_waiting()

    def write_waiting(self) -> None:
        """Write the access lines that wait, as one batch (one batch at a time: in order)."""
        with self._writing:
            lines = []
            while self._waiting:
                lines.append(self._waiting.popleft())
            if lines:
                self._write("\n".join(lines))

    def _write_every(self) -> None:
        while True:
            time.sleep(ACCESS_FLUSH_SECONDS)
            self.write_waiting()

    def _write(self, text: str) -> None:
        try:
            self.access_log.info(text)
        except Exception:
            self.error(traceback.format_exc())

    def reopen_files(self) -> None:
        self.write_waiting()  # into the files they belong to
        super().reopen_files()

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"
        for key in CREDENTIAL_ATOMS:
            if key in atoms:
                atoms[key] = "-"
        redacted: dict[str, str] = {}  # the request line, URI and query string repeat
        for key in URL_ATOMS:
            value = atoms.get(key)
            if isinstance(value, str):
                if value not in redacted:
                    redacted[value] = redact(value)
                atoms[key] = redacted[value]
        return atoms


def _quoted(text: str) -> str:
    """A field between double quotes in the log line, as gunicorn writes it."""
    return text.replace('"', '\\"') if '"' in text else text


class ServeError(RuntimeError):
    """The current version cannot be served: the message says why and what to do."""


def check_query_process(config: Config) -> int:
    """The statements of the current version, counted by a query process of its own that
    opens it in ``config``'s store as a web worker's would; raises :class:`ServeError` when
    there is no version, the process cannot open it or dies before answering."""
    from kg.pipeline.release import Releases
    from kg.served.pool import QueryPool, QueryProcessDied, QueryTimeout
    from kg.served.template import TEMPLATE
    from kg.served.wire import Job

    version = Releases.of(config).current()
    if version is None:
        raise ServeError(f"there is no release in {config.releases}; run `kg build`")
    where = f"version {version.id} in the {config.store} store"
    pool = QueryPool(config.with_(update_token=None).to_json(), 1,
                     memory_mb=config.query_memory_mb)
    try:
        outcome = pool.run(Job("count"), config.query_timeout)
    except QueryProcessDied:
        raise ServeError(f"a query process could not open {where}: it ended before "
                         "answering (its messages are above); nothing is served") from None
    except QueryTimeout:
        raise ServeError(f"a query process could not count the statements of {where} "
                         f"within {config.query_timeout:g} s (KG_QUERY_TIMEOUT); nothing is "
                         "served") from None
    finally:
        pool.close()
        TEMPLATE.close()  # the web workers start their own
    if outcome.status != "ok":
        raise ServeError(f"a query process could not open {where}: {outcome.message}; "
                         "nothing is served")
    return int(outcome.value)


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.kg_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from kg.web import create_app

        return create_app(self.kg_config)


def serve(config: Config, *, host: str, port: int, workers: int) -> None:
    """Serve the current version of ``config``'s release folder (built beforehand), once a
    query process has opened it and answered (raises :class:`ServeError` if not)."""
    url = f"http://{host}:{port}"
    if not config.trusted_hosts:
        config = config.with_(trusted_hosts=default_trusted_hosts(host))
    statements = check_query_process(config)
    print(f"KazKor KG: serving {config.releases} ({config.store} store, {statements:,} "
          f"statements) at {url}/\n"
          f"  browser:        {url}/\n"
          f"  SPARQL clients: {url}/sparql\n"
          f"  health:         {url}/health", flush=True)
    if not config.trusted_hosts:
        print(untrusted_warning(host), flush=True)
    _Gunicorn(config, {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gevent: a connection costs a greenlet, so a client that sends its request slowly
        # holds no worker (docs/decisions/0009-worker-model.md)
        "worker_class": "gevent",
        "worker_connections": config.max_connections,
        "timeout": max(60, int(config.query_timeout * 2)),
        "accesslog": "-",
        "errorlog": "-",
        "logger_class": AccessLog,
        "loglevel": "info",
        "post_fork": _new_worker,
        "post_worker_init": _started,
        "worker_exit": _stop_query_processes,
    }).run()


def _new_worker(_arbiter: Any, worker: Any) -> None:
    """A new worker, before it loads the app: its first heartbeat (gunicorn 27 measures
    the heartbeat on the monotonic clock but leaves a new worker's at the wall-clock time
    of its creation, so a worker that hung while it started, before its first own beat,
    was never found timed out, and never replaced), and its quit (:func:`_quit`; the
    worker reads its signal handlers from itself when it sets them, after this hook)."""
    worker.notify()
    worker.handle_quit = functools.partial(_quit, worker)
    # a stop (Ctrl-C, the master's quit or term) that comes before the worker sets its own
    # handlers, after gevent's patching, reached the master's handlers it inherited, which
    # queue it in this copy of the master: the worker served on, unstopped, until the
    # master killed it 30 s later. Remembered here, it is obeyed once the app is loaded.
    for stop in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
        signal.signal(stop, functools.partial(_stop_early, worker))


def _stop_early(worker: Any, _signal: int, _frame: Any) -> None:
    worker.kg_stop_early = True


def _started(worker: Any) -> None:
    """A worker with its app loaded, about to serve: a stop that came while it started
    ends it now (:func:`_new_worker`)."""
    if getattr(worker, "kg_stop_early", False):
        worker.alive = False


def _quit(worker: Any, _signal: int, _frame: Any) -> None:
    """gunicorn's quit of a gevent worker (SIGINT, SIGQUIT), once, and not after the worker
    ended. gunicorn's own starts a greenlet for each signal (a Ctrl-C sends two: SIGINT
    from the terminal, SIGQUIT from the master) that stops the worker, waits 0.1 s and
    raises SystemExit. When the worker's loop had ended by itself within that 0.1 s, the
    greenlet woke in the interpreter's shutdown, whose SystemExit was printed as a
    traceback."""
    if getattr(worker, "kg_quitting", False):
        return
    worker.kg_quitting = True
    import gevent  # type: ignore[import-untyped]

    def end() -> None:
        worker.alive = False
        worker.cfg.worker_int(worker)
        gevent.sleep(0.1)
        if not getattr(worker, "kg_ended", False):
            sys.exit(0)

    gevent.spawn(end)


def _stop_query_processes(_arbiter: Any, worker: Any) -> None:
    """A worker that ends stops its query processes before the interpreter does: stopped
    by the interpreter's exit handlers, they were waited for in the event loop, where
    gunicorn's quit greenlet (a Ctrl-C) raised SystemExit into the wait. A quit still
    waiting then has nothing left to do (:func:`_quit`)."""
    worker.kg_ended = True
    app = getattr(worker, "wsgi", None)
    state = app.extensions.get("kg") if app is not None else None
    if state is not None:
        state.served.close()
