"""Creating this cluster's Kafka topics at start-up, without making start-up wait for Kafka."""

import asyncio
import logging

from common.kafka import ensure_topics
from common.runtimes import Runtime
from common.settings import KafkaSettings

log = logging.getLogger(__name__)


async def create_topics(settings: KafkaSettings, runtimes: dict[str, Runtime], ready: asyncio.Event) -> None:
    """Create the missing topics (retrying while Kafka is down), then set ``ready``."""
    await ensure_topics(settings.kafka_bootstrap, settings.topic_partitions(runtimes))
    ready.set()
