"""Secret backends. Key Vault and Databricks cannot be reached from here: their clients are replaced by
small fakes with the same call shape (get_secret(name).value; dbutils.secrets.get(scope=, key=))."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from retail_lakehouse.config.secrets import (
    NO_SECRET,
    AzureKeyVaultSecrets,
    DatabricksSecrets,
    EnvironmentSecrets,
    SecretNotFoundError,
    SecretRedactor,
    resolve_secret_references,
    scope_for_jobs,
)
from retail_lakehouse.core.errors import ConfigError


@dataclass
class FakeKeyVaultSecret:
    value: str | None


class FakeSecretClient:
    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets

    def get_secret(self, name: str) -> FakeKeyVaultSecret:
        if name not in self.secrets:
            raise ResourceNotFoundError(f"SecretNotFound: {name}")
        return FakeKeyVaultSecret(self.secrets[name])


class FakeDbutils:
    class secrets:  # noqa: N801 - mirrors dbutils.secrets
        store: dict[tuple[str, str], str] = {("retail", "eh-conn"): "Endpoint=sb://x;SharedAccessKey=abc"}

        @classmethod
        def get(cls, *, scope: str, key: str) -> str:
            if (scope, key) not in cls.store:
                raise ValueError("Secret does not exist with scope: retail and key: " + key)
            return cls.store[(scope, key)]


def test_environment_backend_maps_names_to_variables() -> None:
    backend = EnvironmentSecrets("LAKEHOUSE_SECRET_", {"LAKEHOUSE_SECRET_EVENT_HUB_KEY": "k"})
    assert backend.variable_for("event-hub.key") == "LAKEHOUSE_SECRET_EVENT_HUB_KEY"
    assert backend.get("event-hub.key") == "k"
    with pytest.raises(SecretNotFoundError, match="LAKEHOUSE_SECRET_OTHER is not set"):
        backend.get("other")


def test_key_vault_backend_reads_and_reports_missing_secrets() -> None:
    backend = AzureKeyVaultSecrets("https://kv.vault.azure.net", client=FakeSecretClient({"sql-password": "pw"}))
    assert backend.get("sql-password") == "pw"
    with pytest.raises(SecretNotFoundError, match="no secret named 'nope' in Azure Key Vault https://kv"):
        backend.get("nope")


def test_key_vault_backends_read_references_by_their_key_vault_names() -> None:
    vault = AzureKeyVaultSecrets("https://kv.vault.azure.net", client=FakeSecretClient({"card-token-key": "k1"}))
    assert vault.get("CARD_TOKEN_KEY") == "k1"
    assert vault.get("card.token_key") == "k1"
    FakeDbutils.secrets.store[("retail", "card-token-key")] = "k2"
    assert DatabricksSecrets("retail", dbutils=FakeDbutils()).get("CARD_TOKEN_KEY") == "k2"
    with pytest.raises(SecretNotFoundError, match="no secret named 'sql-user' in Azure Key Vault"):
        vault.get("SQL_USER")
    with pytest.raises(SecretNotFoundError, match="secret 'key/1' has no Key Vault name: Key Vault takes 1 to 127"):
        vault.get("key/1")


def test_databricks_backend_reads_a_scope() -> None:
    backend = DatabricksSecrets("retail", dbutils=FakeDbutils())
    assert backend.get("eh-conn") == "Endpoint=sb://x;SharedAccessKey=abc"
    with pytest.raises(SecretNotFoundError, match="'nope' could not be read from Databricks secret scope retail"):
        backend.get("nope")


def test_references_inside_longer_strings_resolve_and_register_for_redaction() -> None:
    redactor = SecretRedactor()
    backend = EnvironmentSecrets("S_", {"S_USER": "svc", "S_PASSWORD": "pa55"})
    tree: dict[str, Any] = {
        "jdbc": {"url": "jdbc:sqlserver://h;user=${secret:user};password=${secret:password}"},
        "n": 3,
        "list": ["${secret:user}"],
    }
    resolved = resolve_secret_references(tree, backend, redactor, lambda path: "conf/base/x.yaml")
    assert resolved == {"jdbc": {"url": "jdbc:sqlserver://h;user=svc;password=pa55"}, "n": 3, "list": ["svc"]}
    assert redactor.redact(resolved["jdbc"]["url"]) == "jdbc:sqlserver://h;user=***;password=***"


def test_malformed_reference_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"conf/base/x\.yaml: a\.b: malformed secret reference"):
        resolve_secret_references(
            {"a": {"b": "${secret:bad name}"}},
            EnvironmentSecrets("S_", {}),
            SecretRedactor(),
            lambda path: "conf/base/x.yaml",
        )


def test_redactor_replaces_longer_secrets_first() -> None:
    redactor = SecretRedactor()
    redactor.register("abc")
    redactor.register("abcdef")
    redactor.register("")
    assert redactor.redact("x abcdef y abc") == "x *** y ***"


def test_a_scope_resolves_the_shared_sections_its_jobs_and_the_feeds_they_read() -> None:
    tree: dict[str, Any] = {
        "storage": {"root": "abfss://lake@${secret:account}.dfs.core.windows.net"},
        "feeds": {
            "orders": {"jdbc": {"password": "${secret:db_password}"}},
            "events": {"kafka": {"connection_string": "${secret:eventhub}"}},
        },
        "jobs": {
            "bronze_orders": {"inputs": {"source": "feed:orders"}, "params": {}},
            "silver_cards": {"inputs": {"raw": "bronze/orders"}, "params": {"key": "${secret:card_key}"}},
        },
    }
    backend = EnvironmentSecrets("S_", {"S_ACCOUNT": "acct", "S_DB_PASSWORD": "pw"})  # no eventhub, no card_key
    redactor = SecretRedactor()
    scope = scope_for_jobs(tree, ["bronze_orders"])
    resolved = resolve_secret_references(tree, backend, redactor, lambda path: "conf/base/x.yaml", scope=scope)
    assert resolved["storage"]["root"] == "abfss://lake@acct.dfs.core.windows.net"
    assert resolved["feeds"]["orders"]["jdbc"]["password"] == "pw"
    # Out of scope: left as written, and their backends never asked.
    assert resolved["feeds"]["events"]["kafka"]["connection_string"] == "${secret:eventhub}"
    assert resolved["jobs"]["silver_cards"]["params"]["key"] == "${secret:card_key}"
    assert redactor.values == {"acct", "pw"}
    with pytest.raises(ConfigError, match=r"secret 'card_key' cannot be resolved \(needed by job silver_cards\)"):
        resolve_secret_references(
            tree, backend, SecretRedactor(), lambda path: "x", scope=scope_for_jobs(tree, ["silver_cards"])
        )
    with pytest.raises(ConfigError, match=r"secret 'eventhub' cannot be resolved \(needed by feed events\)"):
        resolve_secret_references(
            tree, backend, SecretRedactor(), lambda path: "x", scope=scope_for_jobs(tree, ["feed:events"])
        )
    untouched = resolve_secret_references(tree, backend, SecretRedactor(), lambda path: "x", scope=NO_SECRET)
    assert untouched == tree
