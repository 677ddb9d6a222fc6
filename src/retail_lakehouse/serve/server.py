"""`lakehouse serve`: the dashboard and read API on one local port, with no Spark."""

from __future__ import annotations

import ipaddress
from typing import TextIO

import uvicorn

from retail_lakehouse.config import LoadedConfig
from retail_lakehouse.serve.app import app_for, check_assets

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(loaded: LoadedConfig, host: str, port: int, out: TextIO) -> None:
    """Serves until interrupted. Binds to loopback unless `host` says otherwise; then it says so, since the
    dashboard has no login of its own (put it behind the platform's authentication)."""
    check_assets()
    app = app_for(loaded)
    missing = app.state.reader.warm()
    if missing:
        out.write(f"not built yet (their pages say how to build them): {', '.join(missing)}\n")
    out.write(
        f"dashboard over {loaded.config.storage.root}: open http://{host}:{port}/ (API docs at /docs); Ctrl-C stops\n"
    )
    if not _is_loopback(host):
        out.write(f"note: listening on {host}, not only this machine; the dashboard has no login of its own\n")
    out.flush()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
