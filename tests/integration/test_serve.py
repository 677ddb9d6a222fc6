"""`lakehouse serve` as a user starts it: no secret set, one or several worker processes, the same answers."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.integration.conftest import Workspace
from tests.integration.dashboard_browser import dashboard_server
from tests.unit.serve.gold_lakehouse import write_gold

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_with_no_secret_set_in_one_or_two_processes(
    workspace: Workspace, tmp_path: Path, workers: str
) -> None:
    write_gold(workspace.root)
    workspace.env.pop("LAKEHOUSE_SECRET_CARD_TOKEN_KEY")  # serve runs no job: it needs no secret
    with dashboard_server(workspace, tmp_path / "serve.log", "--workers", workers) as url:
        # Several requests: with two workers both processes answer some of them, from their own copies.
        for _ in range(6):
            with urllib.request.urlopen(f"{url}/api/insights/cards?category=Bikes") as response:
                body = json.loads(response.read())
            assert (body["products_sold"], body["revenue"], body["customers"]) == (10, 470.5, 3)
    assert "dashboard over" in (tmp_path / "serve.log").read_text()
