"""The results recorder: the API replicas' shared consumer group on ``results``, writing to MySQL.

Offsets are committed after the batch's MySQL transaction (:mod:`api.lib.consumer`), so a crash between
the two only replays events, and replaying is harmless (:mod:`api.results.apply`).
"""

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.lib.consumer import MySQLConsumer, Record, record_position
from api.metrics.instruments import observe_written
from api.results.apply import ResultMessage, apply_events
from schemas import DecodeError, decode_result

log = logging.getLogger(__name__)


class ResultEvents:
    """The recorder's :class:`~api.lib.consumer.Sink`: result events, applied to ``submissions``."""

    def prepare(self, records: list[Record]) -> list[ResultMessage]:
        """The decodable result events of ``records``."""
        events: list[ResultMessage] = []
        for record in records:
            try:
                events.append(decode_result(record.value or b""))
            except DecodeError as exc:
                # Not ours to dead-letter: a producer outside the API wrote it. Log and move on.
                log.error("skipping undecodable result at %s: %s", record_position(record), exc.reason)
        return events

    async def write(self, conn: AsyncConnection, items: list[ResultMessage]) -> None:
        """Apply the events in order."""
        await apply_events(conn, items)

    def describe(self, item: ResultMessage) -> str:
        """``<event> <id> seq <n>``."""
        return f"result event {item.event} {item.id} seq {item.seq}"


def results_recorder(
    *, engine: AsyncEngine, bootstrap: str, topic: str, group_id: str, topics_ready: asyncio.Event
) -> MySQLConsumer[ResultMessage]:
    """Consumes ``results`` in the recorder group and applies every event to MySQL."""
    return MySQLConsumer(
        name="recorder",
        sink=ResultEvents(),
        engine=engine,
        bootstrap=bootstrap,
        topics=[topic],
        group_id=group_id,
        topics_ready=topics_ready,
        on_written=observe_written,
    )
