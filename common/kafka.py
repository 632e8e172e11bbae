"""Kafka helpers every process uses: topic creation and producer/consumer settings."""

import logging
from typing import Any

import tenacity
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from common.backoff import doubling, retrying

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap: str,
    partitions: dict[str, int],
    *,
    attempts: int = 30,
    configs: dict[str, str] | None = None,
) -> None:
    """Create the topics in ``partitions`` (name → partition count) that do not exist yet, with the topic
    ``configs`` given (``max.message.bytes``...).

    Retries while the broker is unreachable, so processes can start before Kafka.
    """

    def log_retry(state: tenacity.RetryCallState) -> None:
        log.warning("Kafka at %s not reachable (attempt %d), retrying", bootstrap, state.attempt_number)

    async for attempt in retrying(
        on=KafkaConnectionError, wait=doubling(1.0, 5.0), attempts=attempts, before_sleep=log_retry
    ):
        with attempt:
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            try:
                await admin.start()
                existing = set(await admin.list_topics())
                missing = [
                    NewTopic(n, p, 1, topic_configs=configs or {})
                    for n, p in partitions.items()
                    if n not in existing
                ]
                if missing:
                    try:
                        await admin.create_topics(missing)
                        log.info("created topics %s", [t.name for t in missing])
                    except TopicAlreadyExistsError:
                        pass  # another process won the race
            finally:
                await admin.close()


def producer_options() -> dict[str, Any]:
    """Producer settings for messages we must not lose or duplicate: idempotent, acks from all.

    No linger: a message goes out at once, and under load the ones sent while a request is in flight form
    the next batch anyway. ``make bench`` measured 2 ms of linger as 4-5 ms more idle latency per job (a
    job and its result each wait once) and no gain in throughput (docs/benchmarks.md)."""
    return {"enable_idempotence": True, "acks": "all", "linger_ms": 0, "request_timeout_ms": 15_000}


def make_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """An idempotent producer (not started)."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, client_id=client_id, **producer_options())
