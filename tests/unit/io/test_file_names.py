"""Files still being written are never read: the glob built from their endings, checked by brute force
against Python's matcher and by Spark's own readers (batch and stream) on real files."""

from __future__ import annotations

import fnmatch
import itertools
import re
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from retail_lakehouse.config.models import FeedSettings
from retail_lakehouse.io.file_names import glob_excluding_endings
from retail_lakehouse.io.readers import read_feed


def matches(glob: str, name: str) -> bool:
    """Hadoop's glob for these patterns: {a,b} alternatives of fnmatch patterns (no escapes needed here)."""
    return any(fnmatch.fnmatchcase(name, alternative) for alternative in glob[1:-1].split(","))


@pytest.mark.parametrize("endings", [[".part", ".tmp"], [".tmp", "x.tmp", ".t"], ["a"]])
def test_the_glob_matches_exactly_the_names_without_an_excluded_ending(endings: list[str]) -> None:
    glob = glob_excluding_endings(endings)
    alphabet = sorted(set("".join(endings)) | {"z"})
    for length in range(1, 7):
        for letters in itertools.product(alphabet, repeat=length):
            name = "".join(letters)
            assert matches(glob, name) == (not name.endswith(tuple(endings))), (glob, name)


def test_glob_special_characters_in_an_ending_are_literal() -> None:
    glob = glob_excluding_endings(["[1].tmp"])
    assert re.search(r"\\\[", glob)


def test_in_progress_uploads_are_not_read_in_batch_or_as_a_stream(spark: SparkSession, tmp_path: Path) -> None:
    day = tmp_path / "orders" / "2025-01-02"
    day.mkdir(parents=True)
    for name in ("a.jsonl", "b.jsonl.part", "c.jsonl.tmp", "_d.jsonl", ".e.jsonl", "f.part.jsonl"):
        (day / name).write_text(f'{{"id": "{name}"}}\n', encoding="utf-8")
    feed = FeedSettings.model_validate({"path": "orders", "format": "json", "schema": "id STRING"})
    batch = read_feed(spark, feed, str(tmp_path / "orders"), incremental=False)
    assert sorted(r.id for r in batch.collect()) == ["a.jsonl", "f.part.jsonl"]

    stream = read_feed(spark, feed, str(tmp_path / "orders"), incremental=True)
    query = (
        stream.writeStream.format("memory")
        .queryName("in_progress_test")
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    assert sorted(r.id for r in spark.table("in_progress_test").collect()) == ["a.jsonl", "f.part.jsonl"]

    everything = FeedSettings.model_validate(
        {"path": "orders", "format": "json", "schema": "id STRING", "skip_endings": []}
    )
    names = sorted(r.id for r in read_feed(spark, everything, str(tmp_path / "orders"), incremental=False).collect())
    assert names == ["a.jsonl", "b.jsonl.part", "c.jsonl.tmp", "f.part.jsonl"]
