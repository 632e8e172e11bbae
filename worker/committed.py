"""Reading what the worker group committed, metadata included (the consumer API returns only offsets)."""

import logging

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

NO_OFFSET = -1
"""What Kafka answers for a partition the group never committed."""

Committed = dict[TopicPartition, tuple[int | None, str]]
"""Per partition: the committed offset (None: never committed) and its metadata."""


class CommittedReader:
    """Fetches one consumer group's committed offsets with an admin client of its own."""

    def __init__(self, bootstrap: str, group: str, client_id: str) -> None:
        self._group = group
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id)
        self._started = False

    async def start(self) -> None:
        """Connect."""
        await self._admin.start()
        self._started = True

    async def close(self) -> None:
        """Disconnect (if connected)."""
        if self._started:
            await self._admin.close()
            self._started = False

    async def read(self, partitions: list[TopicPartition]) -> Committed:
        """The committed offset and metadata of each of ``partitions``. When Kafka does not answer, every
        partition reads as never committed (logged): its jobs then run with their counts restarted,
        rather than not at all."""
        try:
            found = await self._admin.list_consumer_group_offsets(self._group, partitions=partitions)
        except KafkaError as exc:
            log.warning(
                "cannot read the committed offsets of %s: %s; delivery counts restart", partitions, exc
            )
            found = {}
        result: Committed = {}
        for partition in partitions:
            entry = found.get(partition)
            if entry is None or entry.offset == NO_OFFSET:
                result[partition] = (None, "")
            else:
                result[partition] = (entry.offset, entry.metadata or "")
        return result
