"""A fetched Kafka record as the worker's handler, pool and publisher read it, for unit tests."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FetchedRecord:
    """The fields of aiokafka's ConsumerRecord the worker uses (the real one has more)."""

    value: bytes | None
    key: bytes | None = b"k"
    topic: str = "jobs.python"
    partition: int = 1
    offset: int = 7
    headers: tuple[tuple[str, bytes], ...] = ()
