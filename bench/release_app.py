"""Our web app over a prepared release folder (``KG_BENCH_RELEASE``), for gunicorn.

The benchmark serves LUBM(10) this way: the same app as ``kg serve``, over a release that
was not built from this project's sources.
"""

import os
from pathlib import Path

from kg.config import Config
from kg.pipeline.release import Release
from kg.web import create_app

app = create_app(Config.from_env(), Release(Path(os.environ["KG_BENCH_RELEASE"])))
