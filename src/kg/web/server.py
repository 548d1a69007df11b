"""Running the app under gunicorn, the production WSGI server."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from kg.config import Config


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.kg_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from kg.web import create_app

        return create_app(self.kg_config)


def serve(config: Config, *, host: str, port: int, workers: int) -> None:
    """Serve the current version of ``config``'s release folder (built beforehand)."""
    url = f"http://{host}:{port}"
    print(f"KazKor KG: serving {config.releases} ({config.store} store) at {url}/\n"
          f"  browser:        {url}/\n"
          f"  SPARQL clients: {url}/sparql\n"
          f"  health:         {url}/health", flush=True)
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
        "loglevel": "info",
    }).run()
