"""Asking other workers for checks (:mod:`schemas.checks`): a job's checker in a language this image
lacks is run by that language's workers, one test at a time.

Started on first use, so a worker whose jobs never need it costs nothing: a reply reader (a consumer of
``check-replies`` without a group, from the end, keeping the replies keyed with this worker's id) and
the request topics, created as they are first asked for. A request nobody answers in ``timeout_s``
(no worker of that language is up, or it died holding it) is the checker failing: ``internal_error``.
"""

import asyncio
import logging
from uuid import UUID

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from common.kafka import ensure_topics
from schemas.checks import CHECK_MESSAGE_BYTES, CheckReply, CheckRequest
from schemas.codec import encode
from schemas.topics import Topics

log = logging.getLogger(__name__)

CHECK_TOPIC_CONFIGS = {"max.message.bytes": str(CHECK_MESSAGE_BYTES)}


def check_producer_options() -> dict[str, object]:
    """A check request carries a program's output and the checker's files (testlib.h, 0.2 MB, each
    time): larger messages than a job's, compressed."""
    return {"max_request_size": CHECK_MESSAGE_BYTES, "compression_type": "gzip"}


class CheckClient:
    """Sends :class:`CheckRequest` and awaits the matching :class:`CheckReply`."""

    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        producer: AIOKafkaProducer,
        *,
        worker_id: str,
        partitions: int,
        timeout_s: float,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._producer = producer
        self._worker_id = worker_id
        self._partitions = partitions
        self._timeout_s = timeout_s
        self._starting = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._request_topics: set[str] = set()
        self._waiting: dict[UUID, asyncio.Future[CheckReply]] = {}

    async def check(self, request: CheckRequest) -> CheckReply:
        """The reply to ``request``; one with ``unusable`` set when no worker answered in time."""
        language = request.checker.language
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[CheckReply] = loop.create_future()
        self._waiting[request.id] = reply
        try:
            async with asyncio.timeout(self._timeout_s):
                topic = await self._ready(language)
                await self._producer.send_and_wait(
                    topic, encode(request), key=str(request.submission_id).encode()
                )
                return await reply
        except TimeoutError:
            why = (
                f"no {language} worker answered the check of test {request.test_index} "
                f"in {self._timeout_s:g} s"
            )
        except KafkaError as exc:
            why = f"cannot ask the {language} workers for a check: {exc}"
        finally:
            self._waiting.pop(request.id, None)
        log.warning("%s (submission %s)", why, request.submission_id)
        return request.failed(why, unusable=True)

    async def _ready(self, language: str) -> str:
        """The request topic of ``language``, once it and the reply reader are up."""
        topic = self._topics.checks(language)
        async with self._starting:
            if self._reader is None or self._reader.done():  # not started, or it failed: (re)start it
                await self._stop_reader()
                await self._start_reader()
            if topic not in self._request_topics:
                await ensure_topics(self._bootstrap, {topic: self._partitions}, configs=CHECK_TOPIC_CONFIGS)
                self._request_topics.add(topic)
        return topic

    async def _start_reader(self) -> None:
        replies = self._topics.check_replies
        await ensure_topics(self._bootstrap, {replies: self._partitions}, configs=CHECK_TOPIC_CONFIGS)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=f"worker-{self._worker_id}-check-replies",
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(replies, p) for p in await self._producer.partitions_for(replies)]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for partition in partitions:  # resolved now: a reply to our first request is after it
                await consumer.position(partition)
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._reader = asyncio.create_task(self._read(consumer), name="check-replies")

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        own = self._worker_id.encode()
        async for record in consumer:
            if record.key != own:
                continue
            try:
                reply = CheckReply.model_validate_json(record.value or b"")
            except ValidationError:
                log.warning("ignored a check reply that is not one (%s@%d)", record.partition, record.offset)
                continue
            waiting = self._waiting.get(reply.id)
            if waiting is not None and not waiting.done():  # else a late or repeated reply
                waiting.set_result(reply)

    async def close(self) -> None:
        """Stop the reply reader (requests still waiting get no reply: the pool's jobs are over)."""
        await self._stop_reader()

    async def _stop_reader(self) -> None:
        reader, consumer = self._reader, self._consumer
        self._reader = self._consumer = None
        if reader is not None:
            reader.cancel()
            try:
                await reader
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("the check reply reader failed; starting it again")
        if consumer is not None:
            await consumer.stop()
