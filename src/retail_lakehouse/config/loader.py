"""Loads, resolves and validates configuration before Spark starts; every problem is one ConfigError."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from retail_lakehouse.config.models import LakehouseConfig, SecretsSettings
from retail_lakehouse.config.query_files import inline_query_files
from retail_lakehouse.config.secrets import (
    EVERY_SECRET,
    NO_SECRET,
    SecretBackend,
    SecretRedactor,
    backend_from_settings,
    resolve_secret_references,
    scope_for_jobs,
)
from retail_lakehouse.config.sources import LayeredTree, default_conf_dir, load_layers
from retail_lakehouse.config.validate import check_references, pydantic_errors
from retail_lakehouse.core.contracts import Catalogue
from retail_lakehouse.core.errors import ConfigError

DEFAULT_ENV = "local"
# `secrets_for` of a command that runs no job: no secret is resolved.
NO_JOBS: Collection[str] = frozenset({"<no job>"})


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
    secrets_for: Collection[str] | None = None,
) -> LoadedConfig:
    """The validated configuration of `env`, with the secrets of the jobs named in `secrets_for` (and of the
    sections all jobs share) resolved; `secrets_for=None` resolves every secret, `NO_JOBS` none at all (a
    command that runs no job: its references stay as their `${secret:NAME}` text, no backend is asked)."""
    environ = os.environ if environ is None else environ
    env = env or environ.get("LAKEHOUSE_ENV") or DEFAULT_ENV
    conf_dir = conf_dir or default_conf_dir(environ)
    redactor = SecretRedactor()
    try:
        tree = load_layers(conf_dir, env, set_overrides, environ)
        inline_query_files(tree, conf_dir)
        secrets = _validate(SecretsSettings, tree.values.get("secrets", {}), tree, prefix=("secrets",))
        scope = (
            EVERY_SECRET
            if secrets_for is None
            else NO_SECRET
            if secrets_for is NO_JOBS
            else scope_for_jobs(tree.values, secrets_for)
        )
        resolved = tree.values
        if scope != NO_SECRET:
            backend = secret_backend or backend_from_settings(secrets.model_dump(), environ)
            resolved = resolve_secret_references(tree.values, backend, redactor, tree.origin_of, scope=scope)
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
