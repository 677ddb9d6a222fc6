"""SQL transforms' query files: read at load time, relative to the YAML file that names them."""

from __future__ import annotations

from pathlib import Path

from retail_lakehouse.config.sources import LayeredTree
from retail_lakehouse.core.errors import ConfigError

SQL_TRANSFORM = "sql"


def folder_of(origin: str | None, conf_dir: Path) -> Path:
    """The folder a configuration source lives in: `conf/<layer>/<file>` is under `conf_dir`; a --set or an
    environment variable is relative to the working directory."""
    if origin and origin.startswith("conf/") and origin.count("/") >= 2:
        return conf_dir / origin.split("/")[1]
    return Path.cwd()


def inline_query_files(tree: LayeredTree, conf_dir: Path) -> None:
    """Puts each `params.query_file`'s text into `params.query` of its job (a job gives one of the two)."""
    for name, job in (tree.values.get("jobs") or {}).items():
        if not isinstance(job, dict) or job.get("transform") != SQL_TRANSFORM:
            continue
        params = job.get("params")
        if not isinstance(params, dict) or not params.get("query_file"):
            continue
        path = ("jobs", str(name), "params", "query_file")
        origin = tree.origin_of(path)
        if params.get("query"):
            raise ConfigError("give query or query_file, not both", source=origin, key=".".join(path))
        file = folder_of(origin, conf_dir) / str(params["query_file"])
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(
                f"cannot read the query file {file}: {reason}", source=origin, key=".".join(path)
            ) from None
        tree.set((*path[:-1], "query"), text, origin or str(file))
