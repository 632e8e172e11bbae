"""Answering other workers' checks (:mod:`schemas.checks`): the requests of ``checks.<language>`` for
this worker's language, one at a time, in a pool process of their own.

Not in the job pool: a job there may itself wait for a check from another language's workers, and if
those waited for ours in turn, two full pools would wait for each other. The check pool starts with
the first request (most workers never get one). A request is committed once its reply is on Kafka; a
worker that dies holding one leaves it to the next worker of the group.
"""

import dataclasses
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from common.kafka import ensure_topics
from common.runtimes import Runtime
from common.tasks import TaskGroup
from schemas.checks import CHECK_MESSAGE_BYTES, CheckReply, CheckRequest
from schemas.codec import encode
from schemas.topics import Topics
from worker.check_client import CHECK_TOPIC_CONFIGS
from worker.errors import InternalError
from worker.execute import ExecConfig
from worker.pool import Pool
from worker.sandboxed import per_command
from worker.test_cache import TestCache

log = logging.getLogger(__name__)


class CheckServer:
    """Consumes ``checks.<language>`` in the language's checker group and replies on ``check-replies``."""

    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        producer: AIOKafkaProducer,
        *,
        runtime: Runtime,
        config: ExecConfig,
        partitions: int,
        test_cache: TestCache | None,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._producer = producer
        self._runtime = runtime
        self._config = config
        self._partitions = partitions
        self._test_cache = test_cache
        self._pool: Pool | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._tasks = TaskGroup()

    async def start(self) -> None:
        """Create the topics and join the checker group."""
        language = self._runtime.id
        topics = {
            self._topics.checks(language): self._partitions,
            self._topics.check_replies: self._partitions,
        }
        await ensure_topics(self._bootstrap, topics, configs=CHECK_TOPIC_CONFIGS)
        self._consumer = AIOKafkaConsumer(
            self._topics.checks(language),
            bootstrap_servers=self._bootstrap,
            group_id=self._topics.checker_group(language),
            client_id=f"worker-{self._config.worker_id}-checks",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=CHECK_MESSAGE_BYTES,
            fetch_max_bytes=CHECK_MESSAGE_BYTES,
        )
        await self._consumer.start()
        consumer = self._consumer
        self._tasks.start("check-server", lambda: self._serve(consumer))  # restarted when it crashes

    async def _serve(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            record = await consumer.getone()
            reply = await self._answer(record)
            if reply is not None:
                await self._producer.send_and_wait(
                    self._topics.check_replies, encode(reply), key=reply.reply_to.encode()
                )
            await consumer.commit()

    async def _answer(self, record: ConsumerRecord) -> CheckReply | None:
        try:
            request = CheckRequest.model_validate_json(record.value or b"")
        except ValidationError as exc:  # nobody to answer: the asking worker's wait runs out
            log.warning(
                "ignored a check request that is not one (%s@%d): %s", record.topic, record.offset, exc
            )
            return None
        if self._pool is None:
            # Checkers run in a sandbox each (worker/judge_programs.py): no warm one to keep in this pool.
            config = dataclasses.replace(self._config, sandbox=per_command(self._config.sandbox))
            self._pool = Pool(1, self._runtime, config, language=self._runtime.id)
            await self._pool.start()
        try:
            if self._test_cache is None:
                if request.test.referenced:
                    raise InternalError("this worker has no test store to read the test from")
                return await self._pool.check(request)
            async with self._test_cache.holding([request.test]):
                return await self._pool.check(request)
        except InternalError as exc:
            log.warning("check of submission %s failed on our side: %s", request.submission_id, exc)
            return request.failed(f"the {self._runtime.id} worker could not run the checker: {exc}")

    async def stop(self) -> None:
        """Stop consuming (a check half-way is left to another worker) and stop the check pool."""
        await self._tasks.stop()
        if self._consumer is not None:
            await self._consumer.stop()
        if self._pool is not None:
            await self._pool.close()
