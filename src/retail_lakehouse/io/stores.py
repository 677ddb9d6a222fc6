"""The file store of a location: a local folder or an ADLS Gen2 URI (io/file_stores.py, io/adls_store.py)."""

from __future__ import annotations

from pathlib import Path

from retail_lakehouse.io.adls_store import AdlsFileStore
from retail_lakehouse.io.file_stores import FileStore, FileStoreError, LocalFileStore


def store_for(location: str) -> FileStore:
    """The store of a local path or an abfss:// URI (ADLS Gen2, credentials by DefaultAzureCredential)."""
    if location.startswith("abfss://"):
        return AdlsFileStore.from_uri(location)
    if "://" in location:
        raise FileStoreError(f"{location}: only local paths and abfss:// URIs are supported")
    return LocalFileStore(Path(location))
