"""Queue lag per language: jobs on ``jobs.<language>`` that the language's worker group has not committed,
plus check requests on ``checks.<language>`` (other workers' tests judged by a checker in this language,
schemas/checks.py) that its checker group has not.

Workers commit a job's offset only after its result is on Kafka, so the lag counts jobs queued *and*
jobs running: exactly the work a pool still has in hand.
"""

import asyncio
import logging
from collections.abc import Collection, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import Topics

log = logging.getLogger(__name__)

MEASURE_TIMEOUT_S = 10.0


def lag_of(
    partitions: Collection[TopicPartition],
    committed: Mapping[TopicPartition, int],
    beginning: Mapping[TopicPartition, int],
    end: Mapping[TopicPartition, int],
) -> int:
    """The summed lag of ``partitions``. A partition the group never committed counts from its first
    offset, where the workers start (``auto_offset_reset="earliest"``)."""
    total = 0
    for tp in partitions:
        position = committed.get(tp, -1)
        if position < 0:
            position = beginning[tp]
        total += max(0, end[tp] - position)
    return total


class LagProbe:
    """Measures the lag of every language's queue with one admin client and one group-less consumer,
    connected on first use and reconnected after a failure."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def measure(self, languages: Collection[str]) -> dict[str, int]:
        """The lag of each language whose topic exists. Raises on Kafka trouble (and reconnects on the
        next call)."""
        try:
            async with asyncio.timeout(MEASURE_TIMEOUT_S):
                return await self._measure(languages)
        except BaseException:
            await self.close()
            raise

    async def _measure(self, languages: Collection[str]) -> dict[str, int]:
        admin, consumer = await self._connect()
        # All topics at once: naming missing ones in a metadata request could make the broker create them.
        described: list[dict[str, Any]] = await admin.describe_topics()
        partitions = {
            t["topic"]: [TopicPartition(t["topic"], p["partition"]) for p in t["partitions"]]
            for t in described
        }
        lags: dict[str, int] = {}
        for language in languages:
            queues = [
                (tps, group)
                for tps, group in (
                    (partitions.get(self._topics.jobs(language)), self._topics.worker_group(language)),
                    (partitions.get(self._topics.checks(language)), self._topics.checker_group(language)),
                )
                if tps
            ]
            if not queues:
                continue  # the API has not created the topic yet: nothing was queued
            lags[language] = 0
            for tps, group in queues:
                offsets = await admin.list_consumer_group_offsets(group, partitions=tps)
                committed = {tp: meta.offset for tp, meta in offsets.items()}
                lags[language] += lag_of(
                    tps, committed, await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
                )
        return lags

    async def _connect(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id="executioner-master")
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                client_id="executioner-master",
                group_id=None,
                enable_auto_commit=False,
            )
            self._admin, self._consumer = admin, consumer
            await admin.start()
            await consumer.start()
        return self._admin, self._consumer

    async def close(self) -> None:
        """Disconnect (a later :meth:`measure` connects again)."""
        admin, consumer = self._admin, self._consumer
        self._admin = self._consumer = None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()
