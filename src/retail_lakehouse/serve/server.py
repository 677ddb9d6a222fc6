"""`lakehouse serve`: the dashboard and read API on one local port, with no Spark."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable
from typing import TextIO

import uvicorn
from fastapi import FastAPI

from retail_lakehouse.config import LoadedConfig
from retail_lakehouse.serve.app import app_for, check_assets

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050
# How `serve` tells its worker processes which configuration to load (they start from an import string).
WORKER_SETTINGS = "LAKEHOUSE_SERVE_WORKER"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(
    loaded: LoadedConfig, host: str, port: int, workers: int, out: TextIO, *, worker_factory: str, overrides: list[str]
) -> None:
    """Serves until interrupted. Binds to loopback unless `host` says otherwise; then it says so, since the
    dashboard has no login of its own (put it behind the platform's authentication). With several
    `workers`, each process holds its own copy of the tables (memory x workers) and the requests are
    shared between them: on N cores, N workers answer about N times as many."""
    check_assets()
    config = loaded.config
    out.write(f"dashboard over {config.storage.root}: open http://{host}:{port}/ (API docs at /docs); Ctrl-C stops\n")
    if not _is_loopback(host):
        out.write(f"note: listening on {host}, not only this machine; the dashboard has no login of its own\n")
    out.flush()
    if workers == 1:
        uvicorn.run(app_for(loaded), host=host, port=port, log_level="warning", access_log=False)
        return
    os.environ[WORKER_SETTINGS] = json.dumps({"env": config.env, "conf_dir": config.conf_dir, "overrides": overrides})
    uvicorn.run(
        worker_factory, factory=True, workers=workers, host=host, port=port, log_level="warning", access_log=False
    )


def worker_app(load: Callable[[str, str, list[str]], LoadedConfig]) -> FastAPI:
    """The app of one worker process, over the configuration `serve` named (`load` loads it)."""
    settings = json.loads(os.environ[WORKER_SETTINGS])
    return app_for(load(settings["env"], settings["conf_dir"], settings["overrides"]))
