"""Reads the YAML layers (base, environment overlay, environment variables, --set) into one tree.

Every leaf remembers the layer that set it last, so a validation error can name the file and key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from retail_lakehouse.core.errors import ConfigError

KeyPath = tuple[str, ...]
ANCHOR_PREFIX = "x-"

# Environment variables that override single keys: variable -> dotted key.
ENV_KEY_OVERRIDES: Mapping[str, KeyPath] = {
    "LAKEHOUSE_ROOT": ("storage", "root"),
    "LAKEHOUSE_LANDING": ("storage", "landing"),
}


@dataclass
class LayeredTree:
    """A merged configuration tree and, for each leaf key path, the source that set it."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[KeyPath, str] = field(default_factory=dict)

    def origin_of(self, path: Sequence[str | int]) -> str | None:
        """The source of the longest prefix of `path` that a layer set: for a missing key, its section's file."""
        keys = tuple(str(p) for p in path)
        for length in range(len(keys), 0, -1):
            found = self.origins.get(keys[:length])
            if found:
                return found
        return None

    def merge(self, overlay: Mapping[str, Any], source: str) -> None:
        _deep_merge(self.values, overlay, (), source, self.origins)

    def set(self, path: KeyPath, value: Any, source: str) -> None:
        node = self.values
        for depth, key in enumerate(path[:-1]):
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            elif not isinstance(child, dict):
                raise ConfigError(
                    f"cannot set a key below '{key}', which is a {type(child).__name__}, not a section",
                    source=source,
                    key=".".join(path[: depth + 1]),
                )
            node = child
        node[path[-1]] = value
        _forget_below(self.origins, path)
        _record_origins(value, path, source, self.origins)


def _forget_below(origins: dict[KeyPath, str], path: KeyPath) -> None:
    for known in [k for k in origins if k[: len(path)] == path]:
        del origins[known]


def _record_origins(value: Any, path: KeyPath, source: str, origins: dict[KeyPath, str]) -> None:
    origins[path] = source
    if isinstance(value, dict):
        for key, child in value.items():
            _record_origins(child, (*path, str(key)), source, origins)


def _deep_merge(
    target: dict[str, Any],
    overlay: Mapping[str, Any],
    prefix: KeyPath,
    source: str,
    origins: dict[KeyPath, str],
) -> None:
    for key, value in overlay.items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            origins.setdefault(path, source)
            _deep_merge(target[key], value, path, source, origins)
        else:
            target[key] = value
            _forget_below(origins, path)
            _record_origins(value, path, source, origins)


def read_yaml_mapping(path: Path, shown_as: str) -> dict[str, Any]:
    """One YAML file as a mapping; a syntax error names the file, line and column."""
    try:
        with path.open(encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{where}invalid YAML ({exc.problem})", source=shown_as) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML ({exc})", source=shown_as) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"the top level must be a mapping of keys, not a {type(loaded).__name__}", source=shown_as)
    # Top-level keys starting with "x-" only hold YAML anchors (&name) that other entries merge in (<<: *name).
    return {key: value for key, value in loaded.items() if not str(key).startswith(ANCHOR_PREFIX)}


def read_layer(folder: Path, shown_as: str) -> list[tuple[str, dict[str, Any]]]:
    """The YAML files of one layer folder, sorted by name, each with its display name.

    Within one layer a top-level key may appear in one file only: two files that both define
    `jobs` would otherwise silently depend on file order.
    """
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    seen: dict[str, str] = {}
    layer: list[tuple[str, dict[str, Any]]] = []
    for file in files:
        name = f"{shown_as}/{file.name}"
        mapping = read_yaml_mapping(file, name)
        for key in mapping:
            if key in seen:
                raise ConfigError(
                    f"top-level key '{key}' is also defined in {seen[key]}; keep each section in one file per layer",
                    source=name,
                    key=str(key),
                )
            seen[str(key)] = name
        layer.append((name, mapping))
    return layer


def parse_set_override(text: str) -> tuple[KeyPath, Any]:
    """`a.b.c=value` -> (("a", "b", "c"), value); the value is read as YAML, so 8 is an int and x is a string."""
    key, sep, raw = text.partition("=")
    path = tuple(part.strip() for part in key.split("."))
    if not sep or not key.strip() or any(not part for part in path):
        raise ConfigError(f"expected --set KEY=VALUE with a dotted key, got '{text}'", source="--set")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def load_layers(conf_dir: Path, env: str, set_overrides: Sequence[str], environ: Mapping[str, str]) -> LayeredTree:
    """Merge base, the environment overlay, environment variables and --set overrides, in that order."""
    base = conf_dir / "base"
    if not base.is_dir():
        raise ConfigError(
            f"no configuration found: {base} is not a folder (set LAKEHOUSE_CONF_DIR or --conf-dir)",
            source=str(conf_dir),
        )
    overlay = conf_dir / env
    if not overlay.is_dir():
        known = sorted(p.name for p in conf_dir.iterdir() if p.is_dir() and p.name != "base")
        raise ConfigError(
            f"unknown environment '{env}': there is no folder {overlay} (environments: {', '.join(known)})",
            source="--env",
        )
    tree = LayeredTree()
    for name, mapping in [*read_layer(base, "conf/base"), *read_layer(overlay, f"conf/{env}")]:
        tree.merge(mapping, name)
    for variable, path in ENV_KEY_OVERRIDES.items():
        if environ.get(variable):
            tree.set(path, environ[variable], f"environment variable {variable}")
    for text in set_overrides:
        path, value = parse_set_override(text)
        tree.set(path, value, f"--set {text.partition('=')[0]}")
    return tree


def default_conf_dir(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """Where configuration is read from when --conf-dir is not given.

    LAKEHOUSE_CONF_DIR, else ./conf, else the copy inside the installed wheel, else the repository's
    conf/ next to an editable install.
    """
    environ = os.environ if environ is None else environ
    if environ.get("LAKEHOUSE_CONF_DIR"):
        return Path(environ["LAKEHOUSE_CONF_DIR"])
    local = (cwd or Path.cwd()) / "conf"
    if (local / "base").is_dir():
        return local
    return packaged_conf_dir()


def packaged_conf_dir() -> Path:
    """The configuration shipped with the package: inside the installed wheel, else the repository's conf/
    next to an editable install."""
    package_dir = Path(__file__).resolve().parent.parent
    bundled = package_dir / "_conf"
    if (bundled / "base").is_dir():
        return bundled
    return package_dir.parent.parent / "conf"
