"""The WSGI entry point: ``gunicorn server:app`` serves the current release.

Settings come from ``KG_*`` environment variables (see README); the release is
built first when the sources changed.
"""

from kg.config import Config
from kg.pipeline.build import build
from kg.web import create_app

config = Config.from_env()
app = create_app(config, build(config).release)
