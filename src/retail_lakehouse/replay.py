"""`lakehouse replay`: publishes a feed's landing-zone records to its broker, one message per record, at a
chosen rate, to drive the stream in demos and benchmarks.

The feed's `kafka` settings say where: a Kafka broker (the local one of `make kafka`), or Azure Event Hubs
through its Kafka endpoint (`connection_string`), or, with `--target eventhubs`, through the
azure-eventhub SDK. Messages are keyed by store, so one store's events stay in order on one partition.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from retail_lakehouse.config.models import FeedSettings, KafkaSettings
from retail_lakehouse.core.errors import UsageError

FLUSH_TIMEOUT_SECONDS = 60
# Event Hubs batches are capped in bytes; records are sent in batches of at most this many.
EVENT_HUBS_BATCH_RECORDS = 500


class Publisher(Protocol):
    def send(self, key: str | None, value: str) -> None: ...

    def flush(self) -> None: ...


def landing_records(feed_dir: Path, dates: Sequence[str] = ()) -> Iterator[str]:
    """The feed's records in arrival order: arrival-date folders in date order, files by name, lines in
    file order; `dates` limits the folders."""
    folders = sorted(p for p in feed_dir.iterdir() if p.is_dir()) if feed_dir.is_dir() else []
    if dates:
        folders = [p for p in folders if p.name in set(dates)]
    for folder in folders:
        for file in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))):
            with file.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        yield line.rstrip("\n")


def message_key(record: str) -> str | None:
    """The record's store id, when it is JSON that has one (a broken record goes without a key)."""
    try:
        document = json.loads(record)
    except ValueError:
        return None
    store = document.get("store_id") if isinstance(document, dict) else None
    return None if store is None else str(store)


class KafkaPublisher:
    """confluent-kafka producer with idempotence on: a retry inside the client does not duplicate."""

    def __init__(self, settings: KafkaSettings, producer: Any | None = None) -> None:
        self.topic = settings.topic
        if producer is None:
            from confluent_kafka import Producer

            config: dict[str, Any] = {
                "bootstrap.servers": settings.bootstrap_servers,
                "enable.idempotence": True,
                "linger.ms": 20,
            }
            if settings.connection_string is not None:
                config |= {
                    "security.protocol": "SASL_SSL",
                    "sasl.mechanism": "PLAIN",
                    "sasl.username": "$ConnectionString",
                    "sasl.password": settings.connection_string,
                }
            producer = Producer(config)
        self.producer = producer
        self.errors: list[str] = []

    def _delivered(self, error: Any, message: Any) -> None:
        if error is not None:
            self.errors.append(str(error))

    def send(self, key: str | None, value: str) -> None:
        while True:
            try:
                self.producer.produce(self.topic, key=key, value=value, on_delivery=self._delivered)
                break
            except BufferError:  # the client's queue is full: let it send, then try again
                self.producer.poll(0.5)
        self.producer.poll(0)

    def flush(self) -> None:
        left = self.producer.flush(FLUSH_TIMEOUT_SECONDS)
        if left or self.errors:
            raise UsageError(
                f"{left} message(s) not delivered to topic {self.topic} within {FLUSH_TIMEOUT_SECONDS} s"
                + (f"; first error: {self.errors[0]}" if self.errors else "")
            )


class EventHubsPublisher:
    """azure-eventhub SDK producer (AMQP), batching records and keeping a store's records on one partition."""

    def __init__(self, settings: KafkaSettings, client: Any | None = None) -> None:
        if client is None:
            if settings.connection_string is None:
                raise UsageError("--target eventhubs needs the feed's kafka.connection_string")
            from azure.eventhub import EventHubProducerClient

            client = EventHubProducerClient.from_connection_string(
                settings.connection_string, eventhub_name=settings.topic
            )
        self.client = client
        self.pending: dict[str | None, list[str]] = {}

    def send(self, key: str | None, value: str) -> None:
        records = self.pending.setdefault(key, [])
        records.append(value)
        if len(records) >= EVENT_HUBS_BATCH_RECORDS:
            self._send_batch(key, records)
            self.pending[key] = []

    def _send_batch(self, key: str | None, records: list[str]) -> None:
        from azure.eventhub import EventData

        batch = self.client.create_batch(partition_key=key) if key else self.client.create_batch()
        for record in records:
            try:
                batch.add(EventData(record))
            except ValueError:  # the batch is full in bytes: send it, start another
                self.client.send_batch(batch)
                batch = self.client.create_batch(partition_key=key) if key else self.client.create_batch()
                batch.add(EventData(record))
        self.client.send_batch(batch)

    def flush(self) -> None:
        for key, records in self.pending.items():
            if records:
                self._send_batch(key, records)
        self.pending = {}
        self.client.close()


@dataclass(frozen=True)
class ReplayOutcome:
    records: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("inf")


def replay(
    records: Iterator[str],
    publisher: Publisher,
    *,
    rate: float | None = None,
    clock: Any = time.monotonic,
    sleep: Any = time.sleep,
) -> ReplayOutcome:
    """Sends every record; with `rate`, no faster than that many records per second (paced per record
    against the start time, so pauses do not accumulate drift)."""
    started = clock()
    sent = 0
    for record in records:
        if rate:
            due = started + sent / rate
            wait = due - clock()
            if wait > 0:
                sleep(wait)
        publisher.send(message_key(record), record)
        sent += 1
    publisher.flush()
    return ReplayOutcome(records=sent, seconds=clock() - started)


def publisher_for(feed_name: str, feed: FeedSettings, target: str) -> Publisher:
    if feed.kafka is None:
        raise UsageError(f"feed '{feed_name}' has no kafka settings (feeds.{feed_name}.kafka): nowhere to publish")
    if target == "eventhubs":
        return EventHubsPublisher(feed.kafka)
    return KafkaPublisher(feed.kafka)
