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
    RESULT = "x-executioner-result"
    """``published`` when the worker also published the job's final result (a poison job): that result is
    the job's one final word, and whoever records dead letters must not finish the job again. Absent
    when the job gets no result (a rejected record)."""
    RESULT_PUBLISHED = b"published"

    @staticmethod
    def build(
        *, reason: str, topic: str, partition: int, offset: int, worker: str, result_published: bool = False
    ) -> list[tuple[str, bytes]]:
        """Headers for one dead-lettered record, in the form aiokafka's ``send(headers=...)`` takes."""
        return [
            (DeadLetterHeaders.REASON, reason.encode()),
            (DeadLetterHeaders.SOURCE_TOPIC, topic.encode()),
            (DeadLetterHeaders.SOURCE_PARTITION, str(partition).encode()),
            (DeadLetterHeaders.SOURCE_OFFSET, str(offset).encode()),
            (DeadLetterHeaders.WORKER, worker.encode()),
            *([(DeadLetterHeaders.RESULT, DeadLetterHeaders.RESULT_PUBLISHED)] if result_published else []),
        ]
