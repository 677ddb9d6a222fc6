"""Configuration of the inventory stream and of feeds read from Kafka / Event Hubs (no Spark)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retail_lakehouse.catalogue import catalogue
from retail_lakehouse.config import load_config
from retail_lakehouse.core.errors import ConfigError
from tests.conftest import REPO_ROOT
from tests.helpers import write_conf

CONNECTION = "Endpoint=sb://retail-lakehouse-prod.servicebus.windows.net/;SharedAccessKey=s3cr3t-key"


class InMemorySecrets:
    """Stands in for Key Vault, which cannot be reached from here."""

    description = "in-memory secrets"

    def get(self, name: str) -> str:
        return {"CARD_TOKEN_KEY": "card-token-test-key"}.get(name, f"{CONNECTION}-{name}")


def test_prod_overlay_reads_event_hubs_through_its_kafka_endpoint_with_the_secret() -> None:
    loaded = load_config(
        transforms=catalogue(), conf_dir=REPO_ROOT / "conf", env="prod", environ={}, secret_backend=InMemorySecrets()
    )
    options = loaded.config.feeds["inventory_changes"].kafka.source_options()  # type: ignore[union-attr]
    secret = f"{CONNECTION}-eventhubs-inventory-changes"
    assert options == {
        "kafka.bootstrap.servers": "retail-lakehouse-prod.servicebus.windows.net:9093",
        "subscribe": "inventory-changes",
        "startingOffsets": "earliest",
        "failOnDataLoss": "true",
        "maxOffsetsPerTrigger": "200000",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "PLAIN",
        "kafka.sasl.jaas.config": "kafkashaded.org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="$ConnectionString" password="{secret}";',
    }
    # The connection string is a resolved secret: logs and errors show it masked.
    assert secret not in loaded.redactor.redact(options["kafka.sasl.jaas.config"])
    # Batch jobs still read the files of the same feed.
    assert loaded.config.feeds["inventory_changes"].path == "inventory/changes"


def test_reader_options_given_as_numbers_or_booleans_become_text() -> None:
    loaded = load_config(
        transforms=catalogue(),
        conf_dir=REPO_ROOT / "conf",
        set_overrides=["feeds.inventory_changes.options.maxFilesPerTrigger=1", "feeds.stores.options.header=true"],
        environ={"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "card-token-test-key"},
    )
    assert loaded.config.feeds["inventory_changes"].options["maxFilesPerTrigger"] == "1"
    assert loaded.config.feeds["stores"].options["header"] == "true"


@pytest.mark.parametrize(
    ("override", "key", "message"),
    [
        (
            "feeds.inventory_snapshots.kafka={bootstrap_servers: 'h:9092', topic: t}",
            "feeds.inventory_snapshots",
            "a feed read from kafka carries JSON messages; this one is csv",
        ),
        (
            "jobs.inventory.inputs={changes: 'feed:inventory_changes', snapshots: 'feed:inventory_snapshots', "
            "items: 'feed:inventory_item'}",
            "jobs.inventory.inputs",
            "sales_feed pos reads POS transactions: add input pos (feed:pos_transactions)",
        ),
        (
            "jobs.inventory.params.alerts_table=gold/stock_alerts",
            "jobs.inventory.params.alerts_table",
            "table 'gold/stock_alerts' is not declared under tables",
        ),
        (
            "jobs.inventory.kind=batch",
            "jobs.inventory.kind",
            "merges micro-batches of a stream: set kind: stream and write.mode: merge",
        ),
    ],
)
def test_inventory_stream_settings_are_checked_before_spark_starts(override: str, key: str, message: str) -> None:
    overrides = [override]
    if "inputs" in override:
        overrides.append("jobs.inventory.params.sales_feed=pos")
    with pytest.raises(ConfigError) as error:
        load_config(
            transforms=catalogue(),
            conf_dir=REPO_ROOT / "conf",
            set_overrides=overrides,
            environ={"LAKEHOUSE_SECRET_CARD_TOKEN_KEY": "card-token-test-key"},
        )
    assert error.value.key.startswith(key)
    assert message in str(error.value)


def test_a_merging_stream_needs_a_transform_that_merges(tmp_path: Path) -> None:
    conf = write_conf(
        tmp_path / "conf",
        {
            "lakehouse": {"storage": {"landing": str(tmp_path / "l"), "root": str(tmp_path / "r")}},
            "feeds": {"feeds": {"s": {"path": "s", "format": "json", "schema": "a STRING"}}},
            "tables": {"tables": {"bronze/s": {}}},
            "jobs": {
                "jobs": {
                    "j": {
                        "description": "d",
                        "kind": "stream",
                        "transform": "bronze.ingest",
                        "inputs": {"source": "feed:s"},
                        "output": "bronze/s",
                        "write": {"mode": "merge", "keys": ["a"]},
                    }
                }
            },
        },
    )
    with pytest.raises(ConfigError, match="does not merge micro-batches") as error:
        load_config(transforms=catalogue(), conf_dir=conf, environ={})
    assert error.value.key == "jobs.j.write.mode"
