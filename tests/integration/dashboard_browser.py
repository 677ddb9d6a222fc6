"""What the dashboard's browser tests share: `lakehouse serve` in a subprocess, Debian's Chromium driven by
Playwright, DuckDB's own Delta reader for the independent figures, and the screenshot folder."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import duckdb_extension_delta
from playwright.sync_api import Browser, Page, sync_playwright

from retail_lakehouse.runtime.local_process import free_port, stop_process, wait_until_listening
from tests.conftest import REPO_ROOT
from tests.integration.conftest import LAKEHOUSE, Workspace

CHROMIUM = Path(os.environ.get("LAKEHOUSE_TEST_CHROMIUM", "/usr/bin/chromium"))
# As the machine notes say: no sandbox (root in CI), and no background connections on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("LAKEHOUSE_TEST_ARTIFACTS", REPO_ROOT / "artifacts")) / "dashboard"


@contextmanager
def dashboard_server(workspace: Workspace, log: Path, *options: str) -> Iterator[str]:
    """`lakehouse serve` on a free port over the workspace's lakehouse; yields its base URL."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(LAKEHOUSE), "serve", "--port", str(port), *options],
            cwd=workspace.cwd,
            env=workspace.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_listening(process, port, what="dashboard server", log=log, timeout_seconds=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


@contextmanager
def chromium() -> Iterator[Browser]:
    assert CHROMIUM.is_file(), f"the browser tests need {CHROMIUM}: `make browser` installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_query(page: Page, query: str, timeout_ms: float = 20_000) -> None:
    """Waits until the page shows the answers to exactly this filter query (the page sets it when every
    visual of that refresh is drawn)."""
    page.wait_for_function(
        "query => document.body.dataset.state === 'ready' && document.body.dataset.query === query",
        arg=query,
        timeout=timeout_ms,
    )


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def duckdb_over_delta() -> duckdb.DuckDBPyConnection:
    """DuckDB with its Delta extension (from the duckdb-extension-delta wheel: INSTALL cannot download)."""
    extension = Path(duckdb_extension_delta.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    connection = duckdb.connect()
    connection.execute(f"LOAD '{extension / 'delta.duckdb_extension'}'")
    return connection
