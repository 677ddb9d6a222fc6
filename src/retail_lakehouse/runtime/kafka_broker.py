"""A local Apache Kafka broker in KRaft mode (one process is broker and controller), from the jars
`make setup` fetched: the stand-in for Azure Event Hubs and IoT Hub, which speak the Kafka protocol.

Used by `make kafka` (python -m retail_lakehouse.runtime.kafka_broker), the Kafka tests and the benchmark.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from retail_lakehouse.core.errors import RuntimeSetupError
from retail_lakehouse.runtime.local_process import LocalServer, free_port, serve_until_stopped, wait_until_listening

START_TIMEOUT_SECONDS = 60


def default_kafka_jars_dir() -> Path:
    return Path(sys.prefix) / "share" / "retail-lakehouse" / "kafka"


def _properties(port: int, controller_port: int, log_dir: Path, partitions: int) -> str:
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={log_dir}",
            f"num.partitions={partitions}",
            # One broker: internal topics cannot have more replicas than that.
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
        ]
    )


class LocalKafkaBroker(LocalServer):
    """Starts the broker on a loopback port (free ones unless given), waits until it accepts connections,
    and stops it (and removes its data) on exit."""

    def __init__(
        self,
        port: int | None = None,
        *,
        partitions: int = 2,
        jars_dir: Path | None = None,
        data_dir: Path | None = None,
        heap: str = "512m",
    ) -> None:
        self.port = port or free_port()
        self.controller_port = free_port()
        self.partitions = partitions
        self.jars_dir = jars_dir or default_kafka_jars_dir()
        super().__init__(data_dir, prefix="lakehouse-kafka-")
        self.data_dir = self.folder
        self.heap = heap

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, main_class: str, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise RuntimeSetupError("the Kafka broker needs Java 17 (java on PATH)")
        return [java, f"-Xmx{self.heap}", "-cp", f"{self.jars_dir}/*", main_class, *args]

    def start(self) -> LocalKafkaBroker:
        if not any(self.jars_dir.glob("kafka_2.13-*.jar")):
            raise RuntimeSetupError(f"the Kafka broker jars are not in {self.jars_dir}; run `make setup`")
        config = self.data_dir / "server.properties"
        config.write_text(_properties(self.port, self.controller_port, self.data_dir / "logs", self.partitions))
        cluster_id = uuid.uuid4().hex[:22]
        subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)),
            check=True,
            capture_output=True,
        )
        log = (self.data_dir / "broker.log").open("wb")
        self.process = subprocess.Popen(self._java("kafka.Kafka", str(config)), stdout=log, stderr=subprocess.STDOUT)
        wait_until_listening(
            self.process,
            self.port,
            what="Kafka broker",
            log=self.data_dir / "broker.log",
            timeout_seconds=START_TIMEOUT_SECONDS,
        )
        return self


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local Apache Kafka broker (KRaft) until Ctrl-C.")
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--partitions", type=int, default=2, help="partitions of automatically created topics")
    args = parser.parse_args(argv)
    with LocalKafkaBroker(args.port, partitions=args.partitions) as broker:
        print(f"Kafka broker listening on {broker.bootstrap_servers} (data in {broker.data_dir}); Ctrl-C stops it")
        serve_until_stopped(broker.process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
