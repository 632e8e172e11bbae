"""The dead-letter wire format.

A rejected message is republished to the ``dead-letter`` topic *unchanged*: same key, same value bytes,
so nothing the producer sent is lost or re-encoded. Why it was rejected travels in Kafka headers.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeadLetterHeaders:
    """Header names (values are UTF-8) on every dead-letter record."""

    REASON = "x-executioner-reason"  # human-readable reason, e.g. "field 'source': Field required"
    SOURCE_TOPIC = "x-executioner-source-topic"
    SOURCE_PARTITION = "x-executioner-source-partition"
    SOURCE_OFFSET = "x-executioner-source-offset"
    WORKER = "x-executioner-worker"  # id of the worker that rejected it

    @staticmethod
    def build(
        *, reason: str, topic: str, partition: int, offset: int, worker: str
    ) -> list[tuple[str, bytes]]:
        """Headers for one dead-lettered record, in the form aiokafka's ``send(headers=...)`` takes."""
        return [
            (DeadLetterHeaders.REASON, reason.encode()),
            (DeadLetterHeaders.SOURCE_TOPIC, topic.encode()),
            (DeadLetterHeaders.SOURCE_PARTITION, str(partition).encode()),
            (DeadLetterHeaders.SOURCE_OFFSET, str(offset).encode()),
            (DeadLetterHeaders.WORKER, worker.encode()),
        ]
