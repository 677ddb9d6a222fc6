"""`lakehouse replay` without a broker: record order, pacing, keys, and the two publishers' call shapes.
The Kafka publisher against a real broker is tested in tests/integration/test_inventory_kafka.py; Azure
Event Hubs cannot be reached from here, so its SDK client is replaced by a fake with the same calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retail_lakehouse.config.models import KafkaSettings
from retail_lakehouse.core.errors import UsageError
from retail_lakehouse.replay import (
    EVENT_HUBS_BATCH_RECORDS,
    EventHubsPublisher,
    KafkaPublisher,
    landing_records,
    message_key,
    replay,
)

SETTINGS = KafkaSettings(bootstrap_servers="127.0.0.1:9092", topic="inventory-changes")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_records_come_in_arrival_order_without_blank_lines_and_by_date(tmp_path: Path) -> None:
    write(tmp_path / "2025-01-02/b.jsonl", '{"n": 3}\n')
    write(tmp_path / "2025-01-01/b.jsonl", '{"n": 2}\n\n')
    write(tmp_path / "2025-01-01/a.jsonl", '{"n": 1}\n')
    write(tmp_path / "2025-01-01/_SUCCESS", "")
    assert list(landing_records(tmp_path)) == ['{"n": 1}', '{"n": 2}', '{"n": 3}']
    assert list(landing_records(tmp_path, ["2025-01-02"])) == ['{"n": 3}']
    assert list(landing_records(tmp_path / "missing")) == []


def test_messages_are_keyed_by_store() -> None:
    assert message_key('{"trans_id": "T1", "store_id": 7}') == "7"
    assert message_key('{"trans_id": "T1"}') is None
    assert message_key('{"trans_id": "T1", "store') is None  # a broken record is still sent, without a key


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str | None, str]] = []
        self.flushed = False

    def send(self, key: str | None, value: str) -> None:
        self.sent.append((key, value))

    def flush(self) -> None:
        self.flushed = True


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_replay_holds_the_rate_against_the_start_time() -> None:
    publisher, clock = RecordingPublisher(), FakeClock()
    records = iter(['{"store_id": 1}', '{"store_id": 2}', "broken", '{"store_id": 1}'])
    outcome = replay(records, publisher, rate=2.0, clock=clock, sleep=clock.sleep)
    assert publisher.sent == [
        ("1", '{"store_id": 1}'),
        ("2", '{"store_id": 2}'),
        (None, "broken"),
        ("1", '{"store_id": 1}'),
    ]
    assert clock.sleeps == [0.5, 0.5, 0.5]  # record n is due n / rate seconds after the start
    assert (outcome.records, outcome.seconds, outcome.rate, publisher.flushed) == (4, 1.5, 4 / 1.5, True)


class FakeProducer:
    """confluent_kafka.Producer's call shape; the first produce finds the queue full."""

    def __init__(self, undelivered: int = 0) -> None:
        self.produced: list[tuple[str, str | None, str]] = []
        self.polls = 0
        self.full_once = True
        self.undelivered = undelivered

    def produce(self, topic: str, key: str | None, value: str, on_delivery: Any) -> None:
        if self.full_once:
            self.full_once = False
            raise BufferError("queue full")
        self.produced.append((topic, key, value))

    def poll(self, timeout: float) -> int:
        self.polls += 1
        return 0

    def flush(self, timeout: float) -> int:
        return self.undelivered


def test_kafka_publisher_waits_when_the_client_queue_is_full_and_reports_undelivered_messages() -> None:
    producer = FakeProducer()
    publisher = KafkaPublisher(SETTINGS, producer=producer)
    publisher.send("1", "a")
    publisher.flush()
    assert producer.produced == [("inventory-changes", "1", "a")]
    with pytest.raises(UsageError, match="2 message\\(s\\) not delivered to topic inventory-changes"):
        KafkaPublisher(SETTINGS, producer=FakeProducer(undelivered=2)).flush()


class FakeBatch:
    def __init__(self, partition_key: str | None) -> None:
        self.partition_key = partition_key
        self.events: list[str] = []

    def add(self, event: Any) -> None:
        self.events.append(event.body_as_str())


class FakeEventHubClient:
    """azure.eventhub.EventHubProducerClient's call shape."""

    def __init__(self) -> None:
        self.sent: list[tuple[str | None, list[str]]] = []
        self.closed = False

    def create_batch(self, partition_key: str | None = None) -> FakeBatch:
        return FakeBatch(partition_key)

    def send_batch(self, batch: FakeBatch) -> None:
        self.sent.append((batch.partition_key, batch.events))

    def close(self) -> None:
        self.closed = True


def test_event_hubs_publisher_batches_records_per_store_and_sends_the_rest_on_flush() -> None:
    client = FakeEventHubClient()
    publisher = EventHubsPublisher(SETTINGS, client=client)
    for n in range(EVENT_HUBS_BATCH_RECORDS + 1):
        publisher.send("1", f"s1-{n}")
    publisher.send(None, "broken")
    assert [(key, len(events)) for key, events in client.sent] == [("1", EVENT_HUBS_BATCH_RECORDS)]
    publisher.flush()
    assert [(key, len(events)) for key, events in client.sent] == [("1", EVENT_HUBS_BATCH_RECORDS), ("1", 1), (None, 1)]
    assert client.sent[1][1] == [f"s1-{EVENT_HUBS_BATCH_RECORDS}"]
    assert client.closed


def test_event_hubs_needs_a_connection_string() -> None:
    with pytest.raises(UsageError, match=r"needs the feed's kafka\.connection_string"):
        EventHubsPublisher(SETTINGS)
