"""The Databricks Asset Bundle (databricks.yml and resources/*.yml) as the Databricks CLI would resolve it
for a target: includes merged, `${var.*}` and `${bundle.*}` substituted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
_REFERENCE = re.compile(r"\$\{(var|bundle)\.([A-Za-z_][\w-]*)\}")


def bundle_root() -> dict[str, Any]:
    root: dict[str, Any] = yaml.safe_load((REPO_ROOT / "databricks.yml").read_text())
    return root


def included_files() -> list[Path]:
    return sorted(path for pattern in bundle_root()["include"] for path in REPO_ROOT.glob(pattern))


def jobs_for(target: str) -> dict[str, dict[str, Any]]:
    """Every job of the bundle as deployed to `target`, references resolved."""
    root = bundle_root()
    variables = {name: spec.get("default") for name, spec in root["variables"].items()}
    variables.update(root["targets"][target].get("variables", {}))
    bundle = {"name": root["bundle"]["name"], "target": target}
    jobs: dict[str, dict[str, Any]] = {}
    for path in included_files():
        for name, job in yaml.safe_load(path.read_text())["resources"]["jobs"].items():
            assert name not in jobs, f"job {name} defined twice"
            jobs[name] = _resolve(job, {"var": variables, "bundle": bundle})
    return jobs


def _resolve(value: Any, scopes: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, dict):
        return {key: _resolve(item, scopes) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, scopes) for item in value]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> Any:
        scope, name = match.groups()
        if name not in scopes[scope]:
            raise KeyError(f"${{{scope}.{name}}} is not defined")
        return scopes[scope][name]

    whole = _REFERENCE.fullmatch(value)
    if whole:  # a value that is only a reference keeps the variable's type (numbers stay numbers)
        return lookup(whole)
    return _REFERENCE.sub(lambda match: str(lookup(match)), value)
