"""Secret references (`${secret:NAME}`) in configuration values, their backends, and redaction.

Values are resolved while configuration loads, before Spark starts, so a missing secret is a
configuration error. Only those a command needs are resolved (a `SecretScope`): the jobs it runs and the
feeds they read, and the sections every job shares; a command that runs no job resolves none. Every
resolved value is registered with a `SecretRedactor`, which logging, error messages and run records pass
their text through.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from retail_lakehouse.core.errors import ConfigError

SECRET_REFERENCE = re.compile(r"\$\{secret:([A-Za-z0-9][A-Za-z0-9_.\-]*)\}")
REDACTED = "***"


class SecretNotFoundError(LookupError):
    """The backend has no secret of that name; the message says where it looked."""


class SecretBackend(Protocol):
    """Looks a secret value up by name."""

    description: str

    def get(self, name: str) -> str: ...


class EnvironmentSecrets:
    """Secrets from environment variables: `${secret:kafka-password}` reads LAKEHOUSE_SECRET_KAFKA_PASSWORD."""

    def __init__(self, prefix: str, environ: Mapping[str, str] | None = None) -> None:
        self.prefix = prefix
        self.environ = os.environ if environ is None else environ
        self.description = f"environment variables with prefix {prefix}"

    def variable_for(self, name: str) -> str:
        return self.prefix + re.sub(r"[^A-Za-z0-9]", "_", name).upper()

    def get(self, name: str) -> str:
        variable = self.variable_for(name)
        value = self.environ.get(variable)
        if not value:
            raise SecretNotFoundError(f"environment variable {variable} is not set")
        return value


# Key Vault secret names (and so the keys of a Key Vault-backed Databricks secret scope) take letters,
# digits and dashes only, case-insensitively. A reference's underscores and dots become dashes, lower case:
# ${secret:CARD_TOKEN_KEY} reads the secret card-token-key, as the environment backend reads
# LAKEHOUSE_SECRET_CARD_TOKEN_KEY.
_KEY_VAULT_NAME = re.compile(r"[0-9a-z-]{1,127}")


def key_vault_name(name: str) -> str:
    converted = re.sub(r"[_.]", "-", name).lower()
    if not _KEY_VAULT_NAME.fullmatch(converted):
        raise SecretNotFoundError(
            f"secret '{name}' has no Key Vault name: Key Vault takes 1 to 127 letters, digits and dashes"
        )
    return converted


class AzureKeyVaultSecrets:
    """Secrets from Azure Key Vault through DefaultAzureCredential (managed identity, CLI login, env)."""

    def __init__(self, vault_url: str, client: Any | None = None) -> None:
        self.description = f"Azure Key Vault {vault_url}"
        if client is None:
            from azure.identity import DefaultAzureCredential
            from azure.keyvault.secrets import SecretClient

            client = SecretClient(vault_url=vault_url, credential=DefaultAzureCredential())
        self.client = client

    def get(self, name: str) -> str:
        from azure.core.exceptions import ResourceNotFoundError

        stored = key_vault_name(name)
        try:
            value = self.client.get_secret(stored).value
        except ResourceNotFoundError:
            raise SecretNotFoundError(f"no secret named '{stored}' in {self.description}") from None
        if value is None:
            raise SecretNotFoundError(f"secret '{stored}' in {self.description} has no value")
        return str(value)


class DatabricksSecrets:
    """Secrets from a Databricks secret scope (works on a cluster and, with a profile, off it). Keys are
    Key Vault names, so that the same references read a Key Vault-backed scope (the bundle's jobs do)."""

    def __init__(self, scope: str, dbutils: Any | None = None) -> None:
        self.scope = scope
        self.description = f"Databricks secret scope {scope}"
        if dbutils is None:
            from databricks.sdk import WorkspaceClient

            dbutils = WorkspaceClient().dbutils
        self.dbutils = dbutils

    def get(self, name: str) -> str:
        key = key_vault_name(name)
        try:
            return str(self.dbutils.secrets.get(scope=self.scope, key=key))
        except Exception as exc:  # the SDK raises several types; all mean "not available"
            raise SecretNotFoundError(
                f"'{key}' could not be read from {self.description} ({type(exc).__name__})"
            ) from None


class SecretRedactor:
    """Replaces every resolved secret value in a text by ***."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)

    def register(self, value: str) -> None:
        if value:
            self._values.add(value)

    def redact(self, text: str) -> str:
        # Longest first, so a secret that contains another is replaced whole.
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return text


def backend_from_settings(settings: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> SecretBackend:
    """Builds the backend named by the `secrets` section (already validated)."""
    backend = settings.get("backend", "env")
    if backend == "azure_key_vault":
        return AzureKeyVaultSecrets(str(settings["vault_url"]))
    if backend == "databricks":
        return DatabricksSecrets(str(settings["scope"]))
    return EnvironmentSecrets(str(settings.get("env_prefix", "LAKEHOUSE_SECRET_")), environ)


@dataclass(frozen=True)
class SecretScope:
    """Which parts of the configuration have their secrets resolved: every section but `jobs` and `feeds`
    (what any job uses: storage, Spark, the secret backend), the jobs named and the feeds they read. With
    `everything`, all of it; an empty scope with `shared=False`, none of it (the references stay as text)."""

    jobs: frozenset[str] = frozenset()
    feeds: frozenset[str] = frozenset()
    shared: bool = True
    everything: bool = False

    def covers(self, path: tuple[str, ...]) -> bool:
        if self.everything:
            return True
        if len(path) < 2 or path[0] not in ("jobs", "feeds"):
            return self.shared
        return path[1] in (self.jobs if path[0] == "jobs" else self.feeds)

    def needed_by(self, path: tuple[str, ...]) -> str:
        """Who needs a secret at `path`, for the message when it is missing."""
        if len(path) >= 2 and path[0] == "jobs":
            return f" (needed by job {path[1]})"
        if len(path) >= 2 and path[0] == "feeds":
            return f" (needed by feed {path[1]})"
        return ""


EVERY_SECRET = SecretScope(everything=True)
NO_SECRET = SecretScope(shared=False)


def scope_for_jobs(config_tree: Mapping[str, Any], names: Collection[str]) -> SecretScope:
    """The secrets the jobs `names` need (a name `feed:NAME` asks for a feed's own): their sections, the feeds
    they read, and the shared sections."""
    jobs = {name for name in names if not name.startswith("feed:")}
    feeds = {name.removeprefix("feed:") for name in names if name.startswith("feed:")}
    for name in jobs:
        inputs = ((config_tree.get("jobs") or {}).get(name) or {}).get("inputs") or {}
        feeds |= {str(ref).removeprefix("feed:") for ref in inputs.values() if str(ref).startswith("feed:")}
    return SecretScope(jobs=frozenset(jobs), feeds=frozenset(feeds))


def resolve_secret_references(
    tree: Any,
    backend: SecretBackend,
    redactor: SecretRedactor,
    origin_of: Callable[[tuple[str, ...]], str | None],
    path: tuple[str, ...] = (),
    scope: SecretScope = EVERY_SECRET,
) -> Any:
    """A copy of `tree` with every `${secret:NAME}` in `scope` replaced by its value (the others stay as
    their text); missing ones are ConfigErrors naming who needs them."""
    if not scope.covers(path):
        return tree
    if isinstance(tree, dict):
        return {
            k: resolve_secret_references(v, backend, redactor, origin_of, (*path, str(k)), scope)
            for k, v in tree.items()
        }
    if isinstance(tree, list):
        return [
            resolve_secret_references(v, backend, redactor, origin_of, (*path, str(i)), scope)
            for i, v in enumerate(tree)
        ]
    if not isinstance(tree, str) or "${secret:" not in tree:
        return tree

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            value = backend.get(name)
        except SecretNotFoundError as exc:
            raise ConfigError(
                f"secret '{name}' cannot be resolved{scope.needed_by(path)}: {exc}",
                source=origin_of(path),
                key=".".join(path),
            ) from None
        redactor.register(value)
        return value

    resolved = SECRET_REFERENCE.sub(substitute, tree)
    if "${secret:" in resolved:
        raise ConfigError(
            "malformed secret reference; write ${secret:NAME} with letters, digits, '.', '_' or '-'",
            source=origin_of(path),
            key=".".join(path),
        )
    return resolved
