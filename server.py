"""The WSGI entry point: ``gunicorn server:app`` serves the current release.

Settings come from ``KG_*`` environment variables (see README); the release is
built first (in a process of its own) when the sources changed.
"""

from kg.config import Config
from kg.pipeline.build import build_in_subprocess
from kg.web import create_app

config = Config.from_env()
build_in_subprocess(config)
app = create_app(config)
