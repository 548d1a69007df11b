"""A private, loopback-only Virtuoso 7 (Debian ``virtuoso-opensource``) and its bulk loader.

:class:`VirtuosoServer` runs ``virtuoso-t`` on 127.0.0.1 with its own ``virtuoso.ini``
and database folder (never the packaged, all-interfaces configuration): the tests and
the benchmarks use it. :func:`bulk_load` drives Virtuoso's bulk loader through
``isql-vt`` (``ld_dir``, ``rdf_loader_run``, ``checkpoint``), the fast way to put
large graphs into a Virtuoso on this machine.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kg.store import StoreError

PACKAGED_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
VAD_DIR = "/usr/share/virtuoso-opensource-7/vad"
#: the packaged database's administrator; a new database gets these credentials
DEFAULT_USER = "dba"
DEFAULT_PASSWORD = "dba"  # noqa: S105 - Virtuoso's documented default on a new database


def installed() -> bool:
    return shutil.which("virtuoso-t") is not None and shutil.which("isql-vt") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_ini(template: str, settings: Mapping[str, Mapping[str, str]]) -> str:
    """``template`` (an ini text) with ``settings`` {section: {key: value}} set or added."""
    out: list[str] = []
    pending: dict[str, dict[str, str]] = {s: dict(kv) for s, kv in settings.items()}
    section: str | None = None

    def flush(name: str | None) -> None:
        for key, value in pending.pop(name or "", {}).items():
            out.append(f"{key} = {value}")

    for line in template.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            flush(section)
            section = header.group(1)
            out.append(line)
            continue
        entry = re.match(r"\s*([A-Za-z_][\w]*)\s*=", line)
        wanted = pending.get(section or "", {})
        if entry and entry.group(1) in wanted:
            out.append(f"{entry.group(1)} = {wanted.pop(entry.group(1))}")
        else:
            out.append(line)
    flush(section)
    for name in list(pending):
        out.append(f"[{name}]")
        flush(name)
    return "\n".join(out) + "\n"


@dataclass
class VirtuosoServer:
    """A ``virtuoso-t`` process in ``folder``, on loopback ports, started and stopped by us."""

    folder: Path
    sql_port: int = 0
    http_port: int = 0
    #: extra folders the bulk loader may read (``DirsAllowed``)
    load_dirs: tuple[Path, ...] = ()
    #: 8 KiB pages; 170,000 is about 1.3 GiB, the packaged "2 GB machine" setting
    buffers: int = 170_000
    process: subprocess.Popen[bytes] | None = None

    @property
    def isql_address(self) -> str:
        return f"127.0.0.1:{self.sql_port}"

    @property
    def sparql_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def graph_store_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql-graph-crud-auth"

    def write_ini(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sql_port = self.sql_port or _free_port()
        self.http_port = self.http_port or _free_port()
        db = self.folder
        allowed = ", ".join([".", VAD_DIR, *(str(d.resolve()) for d in self.load_dirs)])
        ini = private_ini(PACKAGED_INI.read_text(encoding="utf-8"), {
            "Database": {
                "DatabaseFile": str(db / "virtuoso.db"),
                "ErrorLogFile": str(db / "virtuoso.log"),
                "LockFile": str(db / "virtuoso.lck"),
                "TransactionFile": str(db / "virtuoso.trx"),
                "xa_persistent_file": str(db / "virtuoso.pxa"),
            },
            "TempDatabase": {
                "DatabaseFile": str(db / "virtuoso-temp.db"),
                "TransactionFile": str(db / "virtuoso-temp.trx"),
            },
            "Parameters": {
                "ServerPort": self.isql_address,
                "DirsAllowed": allowed,
                "NumberOfBuffers": str(self.buffers),
                "MaxDirtyBuffers": str(self.buffers * 3 // 4),
                "MaxClientConnections": "32",
            },
            "HTTPServer": {
                "ServerPort": f"127.0.0.1:{self.http_port}",
                "MaxClientConnections": "32",
                "ServerThreads": "32",
            },
            "URIQA": {"DefaultHost": f"127.0.0.1:{self.http_port}"},
            "SPARQL": {
                # the default (10,000) truncates larger results without a word
                "ResultSetMaxRows": "10000000",
                "MaxQueryExecutionTime": "300",
                "MaxQueryCostEstimationTime": "0",
            },
        })
        path = self.folder / "virtuoso.ini"
        path.write_text(ini, encoding="utf-8")
        return path

    def start(self, timeout: float = 120) -> VirtuosoServer:
        if not installed():
            raise StoreError("Virtuoso is not installed: apt-get install virtuoso-opensource")
        ini = self.write_ini()
        log = (self.folder / "virtuoso-t.out").open("ab")
        self.process = subprocess.Popen(
            ["virtuoso-t", "+configfile", str(ini), "+foreground"],
            cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StoreError(f"virtuoso-t exited with {self.process.returncode}: "
                                 + self.log_tail())
            if self.ready():
                return self
            time.sleep(0.25)
        self.stop()
        raise StoreError(f"Virtuoso did not answer within {timeout:.0f} s: " + self.log_tail())

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.sparql_url + "?query=ASK%7B%7D", timeout=2) as r:
                return bool(r.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def log_tail(self, lines: int = 20) -> str:
        log = self.folder / "virtuoso.log"
        if not log.exists():
            return "(no log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def isql(self, *statements: str, timeout: float = 1800) -> str:
        return isql(self.isql_address, *statements, timeout=timeout)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.isql("shutdown;", timeout=60)
        except StoreError:
            self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> VirtuosoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def isql(address: str, *statements: str, user: str = DEFAULT_USER,
         password: str = DEFAULT_PASSWORD, timeout: float = 1800) -> str:
    """Run SQL statements with ``isql-vt`` against ``host:port``; the output, or StoreError."""
    if shutil.which("isql-vt") is None:
        raise StoreError("isql-vt is not installed: apt-get install virtuoso-opensource")
    command = ["isql-vt", address, user, password, *(f"exec={s}" for s in statements)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise StoreError(f"isql-vt at {address} did not finish within {timeout:.0f} s") from e
    output = done.stdout + done.stderr
    if done.returncode != 0 or re.search(r"^\*\*\* Error", output, re.M):
        raise StoreError(f"isql-vt at {address} failed: {output.strip()[-2000:]}")
    return output


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def bulk_load(address: str, files: Mapping[str, Path], *, user: str = DEFAULT_USER,
              password: str = DEFAULT_PASSWORD) -> None:
    """Replace each named graph (IRI -> N-Triples file, ``.nt`` or ``.nt.gz``) by the file's
    triples with Virtuoso's bulk loader. The files must be in a folder of ``DirsAllowed``."""
    statements = ["log_enable(3,1);"]
    for graph, path in files.items():
        path = path.resolve()
        statements += [
            f"SPARQL CLEAR GRAPH <{graph}>;",
            f"DELETE FROM DB.DBA.load_list WHERE ll_file = {_sql_string(str(path))};",
            f"ld_dir({_sql_string(str(path.parent))}, {_sql_string(path.name)}, "
            f"{_sql_string(graph)});",
        ]
    statements += ["rdf_loader_run();", "checkpoint;"]
    isql(address, *statements, user=user, password=password)
    names = ", ".join(_sql_string(str(p.resolve())) for p in files.values())
    report = isql(address, "SELECT ll_file, ll_state, ll_error FROM DB.DBA.load_list WHERE "
                           f"ll_file IN ({names}) AND (ll_state <> 2 OR ll_error IS NOT NULL);",
                  user=user, password=password)
    if any(str(p.resolve()) in report for p in files.values()):
        raise StoreError(f"Virtuoso's bulk loader did not load every file:\n{report}")

