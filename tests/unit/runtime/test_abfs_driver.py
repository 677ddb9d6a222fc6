"""hadoop-azure (fetched by make setup) lets the local session open abfss:// paths: the scheme resolves to
ABFS, and a file system configured for a managed identity (OAuth) initialises without contacting Azure.
No request reaches Azure here; docs/operations.md lists what was never run against it."""

from __future__ import annotations

from pyspark.sql import SparkSession

ACCOUNT = "retaillakehousedev.dfs.core.windows.net"


def test_abfss_resolves_to_the_abfs_driver_with_managed_identity_settings(spark: SparkSession) -> None:
    jvm = spark._jvm
    assert jvm is not None
    conf = spark._jsparkSession.sessionState().newHadoopConf()
    for key, value in {
        f"fs.azure.account.auth.type.{ACCOUNT}": "OAuth",
        f"fs.azure.account.oauth.provider.type.{ACCOUNT}": "org.apache.hadoop.fs.azurebfs.oauth2.MsiTokenProvider",
        f"fs.azure.account.oauth2.client.id.{ACCOUNT}": "00000000-0000-0000-0000-000000000000",
    }.items():
        conf.set(key, value)
    path = jvm.org.apache.hadoop.fs.Path(f"abfss://lakehouse@{ACCOUNT}/retail")
    file_system = path.getFileSystem(conf)
    assert file_system.getClass().getName() == "org.apache.hadoop.fs.azurebfs.SecureAzureBlobFileSystem"
    assert file_system.getUri().toString() == f"abfss://lakehouse@{ACCOUNT}"
