"""A hand-built gold lakehouse and the dashboard app over it (FastAPI's test client; no server, no Spark)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import LoadedConfig, load_config
from retail_lakehouse.config.loader import NO_JOBS
from retail_lakehouse.serve.app import app_for
from tests.unit.serve.gold_lakehouse import write_gold


def config_for(root: Path) -> LoadedConfig:
    overrides = [f"storage.root={root}", f"storage.landing={root / 'landing'}"]
    return load_config(transforms=catalogue(), set_overrides=overrides, secrets_for=NO_JOBS)


@pytest.fixture
def lakehouse(tmp_path: Path) -> Path:
    root = tmp_path / "lakehouse"
    write_gold(root)
    return root


@pytest.fixture(params=["bitmaps", "keys"])
def client(lakehouse: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """Every API test runs twice: distinct customers counted from bitmaps, and from keys (a budget of 0
    bytes: what a lakehouse too large for the bitmaps gets)."""
    budget = {"bitmaps": 1 << 20, "keys": 0}[request.param]
    # recheck_seconds=0: every request looks for a newer table version (the tests commit new ones).
    app = app_for(config_for(lakehouse), recheck_seconds=0, bitmap_budget_bytes=budget)
    with TestClient(app) as test_client:
        yield test_client
        reader = app.state.reader
        if reader.version("gold/customer_category_daily") is not None:  # the test read the insights tables
            assert reader.built("insights_customer_bits") == (request.param == "bitmaps")
