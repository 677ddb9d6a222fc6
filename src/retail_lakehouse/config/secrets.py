"""Secret references (`${secret:NAME}`) in configuration values, their backends, and redaction.

Values are resolved while configuration loads, before Spark starts, so a missing secret is a
configuration error. Every resolved value is registered with a `SecretRedactor`, which logging, error
messages and run records pass their text through.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
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

        try:
            value = self.client.get_secret(name).value
        except ResourceNotFoundError:
            raise SecretNotFoundError(f"no secret named '{name}' in {self.description}") from None
        if value is None:
            raise SecretNotFoundError(f"secret '{name}' in {self.description} has no value")
        return str(value)


class DatabricksSecrets:
    """Secrets from a Databricks secret scope (works on a cluster and, with a profile, off it)."""

    def __init__(self, scope: str, dbutils: Any | None = None) -> None:
        self.scope = scope
        self.description = f"Databricks secret scope {scope}"
        if dbutils is None:
            from databricks.sdk import WorkspaceClient

            dbutils = WorkspaceClient().dbutils
        self.dbutils = dbutils

    def get(self, name: str) -> str:
        try:
            return str(self.dbutils.secrets.get(scope=self.scope, key=name))
        except Exception as exc:  # the SDK raises several types; all mean "not available"
            raise SecretNotFoundError(
                f"'{name}' could not be read from {self.description} ({type(exc).__name__})"
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


def resolve_secret_references(
    tree: Any,
    backend: SecretBackend,
    redactor: SecretRedactor,
    origin_of: Callable[[tuple[str, ...]], str | None],
    path: tuple[str, ...] = (),
) -> Any:
    """A copy of `tree` with every `${secret:NAME}` replaced by its value; missing ones are ConfigErrors."""
    if isinstance(tree, dict):
        return {k: resolve_secret_references(v, backend, redactor, origin_of, (*path, str(k))) for k, v in tree.items()}
    if isinstance(tree, list):
        return [resolve_secret_references(v, backend, redactor, origin_of, (*path, str(i))) for i, v in enumerate(tree)]
    if not isinstance(tree, str) or "${secret:" not in tree:
        return tree

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            value = backend.get(name)
        except SecretNotFoundError as exc:
            raise ConfigError(
                f"secret '{name}' cannot be resolved: {exc}", source=origin_of(path), key=".".join(path)
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
