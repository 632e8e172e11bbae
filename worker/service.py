"""The worker's lifecycle: start (runtime, pool, self-test, topics, producers, check server, consumer) →
run (consume until SIGTERM/SIGINT, a fatal error, or an empty queue in burst mode) → drain (finish
running jobs, publish and commit them) → stop (consumer, check server and client, producers, pool, in
that order; then the admin client and the MySQL connections)."""

import asyncio
import logging
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import ValidationError

from common.kafka import ensure_topics, make_producer, producer_options
from common.lifecycle import install_stop_signals
from common.runtimes import Runtime, load_runtime
from worker.check_client import CheckClient, check_producer_options
from worker.check_server import CheckServer
from worker.committed import CommittedReader
from worker.consumer import JobConsumer
from worker.errors import StartupError
from worker.execute import ExecConfig
from worker.finished import FinishedResults, connect_options
from worker.gvisor import on_gvisor
from worker.handler import Admission, JobHandler
from worker.metrics import MetricsServer, pool_slots
from worker.pool import Pool
from worker.publisher import Publisher
from worker.retries import RetryPolicy
from worker.sandbox import MIB
from worker.selftest import run_selftest
from worker.settings import WorkerSettings
from worker.test_cache import TestCache
from worker.test_store import TestStore

log = logging.getLogger(__name__)
MAX_DATABASE_CONNECTIONS = 4


def load_runtime_file(path: Path) -> Runtime:
    """The runtime definition, or :class:`StartupError` saying what is wrong with it."""
    try:
        return load_runtime(path)
    except (OSError, ValueError, ValidationError) as exc:  # tomllib errors are ValueErrors
        raise StartupError(f"cannot load runtime file {path}: {exc}") from exc


def exec_config(settings: WorkerSettings) -> ExecConfig:
    """What every pool process is given. Whether the kernel is gVisor's is decided here, by one probe per
    worker, and travels to the pool processes as data (``SandboxConfig.gvisor``): nothing below asks the
    kernel again. Only the bubblewrap sandbox cares, so without it nothing is probed."""
    gvisor = settings.sandbox != "none" and on_gvisor()
    return ExecConfig(
        settings.scratch_dir,
        settings.worker_id,
        settings.sandbox_config(gvisor=gvisor),
        settings.test_cache_dir,
    )


class WorkerService:
    """One worker process: a pool for one language and the Kafka plumbing around it."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._pool: Pool | None = None
        self._producer = make_producer(settings.kafka_bootstrap, f"worker-{settings.worker_id}")
        self._producer_started = False
        self._check_producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id=f"worker-{settings.worker_id}-checks",
            **producer_options(),
            **check_producer_options(),
        )
        self._check_producer_started = False
        self._check_client = CheckClient(
            settings.kafka_bootstrap,
            settings.topics,
            self._check_producer,
            worker_id=settings.worker_id,
            partitions=settings.jobs_partitions,
            timeout_s=settings.check_timeout_s,
        )
        self._check_server: CheckServer | None = None
        self._consumer: JobConsumer | None = None
        self._committed: CommittedReader | None = None
        self._finished: FinishedResults | None = None
        self._test_store: TestStore | None = None
        self._metrics = MetricsServer()

    async def start(self) -> None:
        """Everything up to (not including) consuming. Raises :class:`StartupError` when the runtime is
        unusable: nothing has been consumed then."""
        settings = self.settings
        if settings.metrics_port is not None:
            self._metrics.start(settings.metrics_host, settings.metrics_port)
        runtime = load_runtime_file(settings.runtime_file)
        test_cache = None
        if settings.database_url:
            self._finished = self._finished_results(settings.database_url)
            self._test_store = TestStore(
                connect_options(settings.database_url), timeout_s=settings.database_timeout_s
            )
            fetch = self._test_store.fetch
            test_cache = TestCache(settings.test_cache_dir, settings.test_cache_mb * MIB, fetch)
        language = settings.language_for(runtime.id)
        # The file's folder names it in a checkout only (an image keeps it as /opt/executioner/runtime.toml):
        # the runtime is the language served, which judge programs in that language run on.
        runtime = runtime.model_copy(update={"id": language})
        config = exec_config(settings)
        if not config.sandbox.isolates:
            log.warning("EXECUTIONER_SANDBOX=none: jobs run WITHOUT isolation (tests and development only)")
        elif config.sandbox.gvisor:
            log.info("the kernel is gVisor's: job sandboxes are set up for it (worker/gvisor.py)")
        self._pool = Pool(
            settings.pool_size, runtime, config, language=language, check_elsewhere=self._check_client.check
        )
        pool_slots.labels(language).set(settings.pool_size)
        await self._pool.start()
        await run_selftest(self._pool, runtime, language)
        log.info("self-test of %s passed; pool of %d", language, settings.pool_size)

        topics = settings.topics
        await ensure_topics(settings.kafka_bootstrap, settings.topic_partitions([language]))
        await self._producer.start()
        self._producer_started = True
        await self._check_producer.start()
        self._check_producer_started = True
        if settings.serve_checks:
            self._check_server = CheckServer(
                settings.kafka_bootstrap,
                topics,
                self._check_producer,
                runtime=runtime,
                config=config,
                partitions=settings.jobs_partitions,
                test_cache=test_cache,
            )
            await self._check_server.start()
        publisher = Publisher(self._producer, topics, settings.worker_id, settings.max_event_bytes)
        handler = JobHandler(
            Admission(language, settings, runtime),
            self._pool,
            publisher,
            RetryPolicy(settings.max_attempts),
            worker_id=settings.worker_id,
            max_deliveries=settings.max_deliveries,
            finished=self._finished,
            test_cache=test_cache,
        )

        group = topics.worker_group(language)
        self._committed = CommittedReader(settings.kafka_bootstrap, group, f"worker-{settings.worker_id}")
        await self._committed.start()
        kafka_consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=group,
            client_id=f"worker-{settings.worker_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._consumer = JobConsumer(
            kafka_consumer,
            topics.jobs(language),
            handler.handle,
            self._committed.read,
            language=language,
            pool_size=settings.pool_size,
            prefetch=settings.prefetch_jobs,
            drain_timeout_s=settings.drain_timeout_s,
        )
        await self._consumer.start()
        log.info("worker %s consuming %s", settings.worker_id, topics.jobs(language))

    def _finished_results(self, url: str) -> FinishedResults:
        try:
            finished = FinishedResults(
                url,
                timeout_s=self.settings.database_timeout_s,
                connections=min(self.settings.pool_size, MAX_DATABASE_CONNECTIONS),
            )
        except ValueError as exc:
            raise StartupError(f"EXECUTIONER_DATABASE_URL: {exc}") from exc
        log.info("finished jobs are looked up in MySQL at %s", finished.where)
        return finished

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, a job failed fatally, or (burst mode) the queue is empty."""
        assert self._consumer is not None
        await self._consumer.run(stop, burst=self.settings.burst)

    async def drain(self) -> None:
        """Finish the running jobs (bounded), publish their results and commit them."""
        if self._consumer is not None:
            await self._consumer.drain()

    async def stop(self) -> None:
        """Release everything that was started, in reverse order."""
        if self._consumer is not None:
            await self._consumer.stop()
        if self._check_server is not None:
            await self._check_server.stop()
        await self._check_client.close()
        if self._check_producer_started:
            await self._check_producer.stop()
        if self._producer_started:
            await self._producer.stop()
        if self._pool is not None:
            await self._pool.close()
        if self._committed is not None:
            await self._committed.close()
        if self._finished is not None:
            await self._finished.close()
        if self._test_store is not None:
            await self._test_store.close()
        self._metrics.stop()

    @property
    def failed(self) -> bool:
        """Whether the worker stopped because a job could not be completed."""
        return self._consumer is not None and self._consumer.failure is not None


async def serve(settings: WorkerSettings, stop: asyncio.Event | None = None) -> int:
    """Run a worker until it is told to stop (or, in burst mode, the queue is empty); the exit code."""
    if stop is None:
        stop = asyncio.Event()
        install_stop_signals(stop)
    service = WorkerService(settings)
    try:
        try:
            await service.start()
        except StartupError as exc:
            log.error("worker cannot start: %s", exc)
            return 1
        await service.run(stop)
        await service.drain()
    finally:
        await service.stop()
    return 1 if service.failed else 0
