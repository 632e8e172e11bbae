"""The dead-letter recorder: the API replicas' shared consumer group on ``dead-letter``, one
``dead_letters`` row per record. The row is keyed by the record's position on the topic, so replays
change nothing."""

import asyncio

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.deadletters.rows import DeadLetter, insert_dead_letters, parse_dead_letter
from api.lib.consumer import AfterCommit, MySQLConsumer, Record
from api.metrics.instruments import counting, dead_letter_kind, dead_letters, observe_written
from schemas import Topics


class DeadLetters:
    """The recorder's :class:`~api.lib.consumer.Sink`."""

    def __init__(self, topics: Topics) -> None:
        self._jobs_prefix = topics.jobs("")

    def prepare(self, records: list[Record]) -> list[DeadLetter]:
        """Every record is a dead letter, whatever its bytes: that is why it is here."""
        return [parse_dead_letter(record, self._jobs_prefix) for record in records]

    async def write(self, conn: AsyncConnection, items: list[DeadLetter]) -> AfterCommit:
        """Insert the rows; count them once committed."""
        await insert_dead_letters(conn, items)
        kinds = (
            dead_letter_kind(
                result_published=bool(item.row["result_published"]), decodable=item.row["job_id"] is not None
            )
            for item in items
        )
        return counting(dead_letters, ((kind,) for kind in kinds))

    def describe(self, item: DeadLetter) -> str:
        """Where the dead letter is."""
        return f"dead letter at partition {item.row['dl_partition']} offset {item.row['dl_offset']}"


def dead_letter_recorder(
    *,
    engine: AsyncEngine,
    bootstrap: str,
    topics: Topics,
    topics_ready: asyncio.Event,
    fetch_wait_ms: int = 0,
) -> MySQLConsumer[DeadLetter]:
    """Consumes ``dead-letter`` in the dead-letter group and records every record."""
    return MySQLConsumer(
        name="dead-letters",
        sink=DeadLetters(topics),
        engine=engine,
        bootstrap=bootstrap,
        topics=[topics.dead_letter],
        group_id=topics.dead_letter_group,
        topics_ready=topics_ready,
        on_written=observe_written,
        fetch_wait_ms=fetch_wait_ms,
    )
