"""Loads, resolves and validates configuration before Spark starts; every problem is one ConfigError."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from retail_lakehouse.config.models import LakehouseConfig, SecretsSettings
from retail_lakehouse.config.secrets import (
    SecretBackend,
    SecretRedactor,
    backend_from_settings,
    resolve_secret_references,
)
from retail_lakehouse.config.sources import LayeredTree, default_conf_dir, load_layers
from retail_lakehouse.config.validate import check_references, pydantic_errors
from retail_lakehouse.core.contracts import Catalogue
from retail_lakehouse.core.errors import ConfigError

DEFAULT_ENV = "local"


@dataclass(frozen=True)
class LoadedConfig:
    """Validated configuration, the catalogue of transforms its jobs name, and the redactor for its secret
    values."""

    config: LakehouseConfig
    transforms: Catalogue
    redactor: SecretRedactor


def load_config(
    *,
    transforms: Catalogue,
    env: str | None = None,
    conf_dir: Path | None = None,
    set_overrides: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    secret_backend: SecretBackend | None = None,
    resolve_secrets: bool = True,
) -> LoadedConfig:
    """The validated configuration of `env`. With resolve_secrets=False (commands that run no job), secret
    references stay as their `${secret:NAME}` text and no secret backend is asked."""
    environ = os.environ if environ is None else environ
    env = env or environ.get("LAKEHOUSE_ENV") or DEFAULT_ENV
    conf_dir = conf_dir or default_conf_dir(environ)
    redactor = SecretRedactor()
    try:
        tree = load_layers(conf_dir, env, set_overrides, environ)
        secrets = _validate(SecretsSettings, tree.values.get("secrets", {}), tree, prefix=("secrets",))
        resolved = tree.values
        if resolve_secrets:
            backend = secret_backend or backend_from_settings(secrets.model_dump(), environ)
            resolved = resolve_secret_references(tree.values, backend, redactor, tree.origin_of)
        config = _validate(LakehouseConfig, {**resolved, "env": env, "conf_dir": str(conf_dir)}, tree)
        check_references(config, transforms, tree)
    except ConfigError as exc:
        # A value echoed back in a message may be a resolved secret.
        raise exc.redacted(redactor.redact) from None
    return LoadedConfig(config=config, transforms=transforms, redactor=redactor)


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Any, tree: LayeredTree, prefix: tuple[str, ...] = ()) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise pydantic_errors(exc, tree, prefix) from None


def transform_params(loaded: LoadedConfig, job_name: str) -> BaseModel:
    """The job's parameters parsed into its transform's model (validated at load, so this cannot fail)."""
    job = loaded.config.jobs[job_name]
    return loaded.transforms[job.transform].params_model.model_validate(job.params)
