"""gunicorn's settings for duijie (`gunicorn --config python:web.gunicorn_conf 'web:create_app()'`).

Read from the environment so the compose file and the systemd unit share them:
GUNICORN_BIND (default 127.0.0.1:8000), GUNICORN_WORKERS
(default 2 x cores). Access lines are logged by the app itself (JSON, with the request id:
web.observability), so gunicorn's own access log stays off. With PROMETHEUS_MULTIPROC_DIR set
the workers share their metrics through files there; a worker's file is marked dead when it exits.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

# The image sets GUNICORN_BIND=0.0.0.0:8000 (reached only through the compose network).
bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"
workers = int(os.environ.get("GUNICORN_WORKERS") or 2 * multiprocessing.cpu_count())
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = None
errorlog = "-"
# The request id and user are logged by the app; gunicorn forwards X-Request-Id untouched.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server: Any) -> None:
    """Empty the metrics folder: files of a previous run's workers would count twice."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server: Any, worker: Any) -> None:
    """A worker gone: its live gauges no longer count (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
