"""Creating this cluster's Kafka topics at start-up, without making start-up wait for Kafka."""

import asyncio
import logging

from common.kafka import ensure_topics
from common.runtimes import Runtime
from common.settings import KafkaSettings

log = logging.getLogger(__name__)

RESULTS_PARTITIONS = 6
DEAD_LETTER_PARTITIONS = 1


def wanted_topics(settings: KafkaSettings, runtimes: dict[str, Runtime]) -> dict[str, int]:
    """Topic name → partition count: ``jobs.<language>`` per runtime, ``results``, ``dead-letter``."""
    topics = settings.topics
    wanted = {topics.jobs(language): settings.jobs_partitions for language in runtimes}
    wanted[topics.results] = RESULTS_PARTITIONS
    wanted[topics.dead_letter] = DEAD_LETTER_PARTITIONS
    return wanted


async def create_topics(settings: KafkaSettings, runtimes: dict[str, Runtime], ready: asyncio.Event) -> None:
    """Create the missing topics (retrying while Kafka is down), then set ``ready``."""
    await ensure_topics(settings.kafka_bootstrap, wanted_topics(settings, runtimes))
    ready.set()
