"""Reading the Bicep templates and parameter files under infra/ for the deployment tests."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

INFRA = Path(__file__).resolve().parents[2] / "infra"

# `param name = value` in a .bicepparam file: pycep reads templates only, and the parameter files hold
# nothing but literals.
_PARAM_LINE = re.compile(r"^param\s+(\w+)\s*=\s*(.+?)\s*$")


@cache
def template(relative: str) -> dict[str, Any]:
    """The parsed template (pycep's JSON form) of infra/<relative>."""
    parsed: dict[str, Any] = BicepParser().parse(file_path=INFRA / relative)
    return parsed


def templates() -> list[str]:
    return sorted(str(path.relative_to(INFRA)) for path in INFRA.rglob("*.bicep"))


def resources(relative: str) -> dict[str, dict[str, Any]]:
    """Symbolic name -> resource, with a conditional resource's `if` unwrapped into its config."""
    found: dict[str, dict[str, Any]] = {}
    for name, resource in template(relative).get("resources", {}).items():
        config = resource["config"]
        if "condition" in config and "config" in config:
            config = config["config"]
        found[name] = {**resource, "config": config}
    return found


def resources_of_type(relative: str, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in resources(relative).items()
        if resource["type"] == resource_type and not resource["existing"]
    }


def parameter_values(environment: str) -> dict[str, Any]:
    """The literal values set in infra/parameters/<environment>.bicepparam."""
    values: dict[str, Any] = {}
    for line in (INFRA / "parameters" / f"{environment}.bicepparam").read_text().splitlines():
        match = _PARAM_LINE.match(line)
        if match:
            values[match.group(1)] = _literal(match.group(2))
    return values


def _literal(text: str) -> Any:
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    return int(text)
