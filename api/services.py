"""Everything the API process runs besides request handlers, with one explicit lifecycle:
:meth:`Services.start` (migrate, start background tasks), then :meth:`Services.stop` (drain the relay,
end SSE streams, stop consumers, release connections)."""

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from api.db.engine import make_engine
from api.db.migrate import migrate, wait_for_database
from api.deadletters.recorder import dead_letter_recorder
from api.events.broker import Broker
from api.events.fanout import ResultsFanout
from api.events.source import SubmissionSource
from api.health.probes import KafkaProbe
from api.idempotency.purge import purge_forever
from api.intake.sink import job_intake
from api.lib.topics import create_topics
from api.outbox.relay import OutboxRelay, relay_name
from api.results.recorder import results_recorder
from api.retention.purge import retention_forever
from api.settings import ApiSettings
from api.submissions.requests import SubmissionRules
from api.webhooks.bodies import WebhookBodies
from api.webhooks.sender import WebhookPolicy, WebhookSender
from common.lifecycle import first_of
from common.runtimes import Runtime, load_runtimes
from common.tasks import TaskGroup

log = logging.getLogger(__name__)

RELAY_DRAIN_TIMEOUT_S = 20.0


@dataclass
class Services:
    """The process's long-lived objects, shared by the request handlers."""

    settings: ApiSettings
    engine: AsyncEngine
    runtimes: dict[str, Runtime]
    rules: SubmissionRules
    broker: Broker
    source: SubmissionSource
    relay: OutboxRelay
    kafka_probe: KafkaProbe
    fanout: ResultsFanout
    tasks: TaskGroup
    relay_task: asyncio.Task[None]

    @classmethod
    async def start(cls, settings: ApiSettings) -> "Services":
        """Migrate MySQL and start the background tasks. Kafka may be down: its tasks wait for it."""
        runtimes = load_runtimes(settings.runtimes_dir)
        if not runtimes:
            raise RuntimeError(f"no runtimes under {settings.runtimes_dir}")
        engine = make_engine(settings)
        try:
            await wait_for_database(engine)
            await migrate(engine, settings.migrations_dir)
        except BaseException:
            await engine.dispose()
            raise
        topics = settings.topics
        topics_ready = asyncio.Event()
        broker = Broker(recent_results=settings.recent_results)
        relay = OutboxRelay(
            engine=engine,
            bootstrap=settings.kafka_bootstrap,
            topics_ready=topics_ready,
            batch_size=settings.relay_batch,
            poll_interval_s=settings.relay_poll_interval_s,
        )
        recorder = results_recorder(
            engine=engine,
            bootstrap=settings.kafka_bootstrap,
            topic=topics.results,
            group_id=topics.recorder_group,
            topics_ready=topics_ready,
            languages=runtimes,
            fetch_wait_ms=settings.consumer_fetch_wait_ms,
        )
        intake = job_intake(
            engine=engine,
            bootstrap=settings.kafka_bootstrap,
            languages={topics.jobs(language): language for language in runtimes},
            group_id=topics.intake_group,
            topics_ready=topics_ready,
            limits=settings,
            runtimes=runtimes,
            check_keys=settings.auth == "keys",
            fetch_wait_ms=settings.consumer_fetch_wait_ms,
        )
        dead_letters = dead_letter_recorder(
            engine=engine,
            bootstrap=settings.kafka_bootstrap,
            topics=topics,
            topics_ready=topics_ready,
            fetch_wait_ms=settings.consumer_fetch_wait_ms,
        )
        fanout = ResultsFanout(
            bootstrap=settings.kafka_bootstrap, topic=topics.results, broker=broker, topics_ready=topics_ready
        )
        tasks = TaskGroup()
        tasks.start("kafka-topics", lambda: create_topics(settings, runtimes, topics_ready))
        relay_task = tasks.start("outbox-relay", relay.run)
        tasks.start("results-recorder", recorder.run)
        tasks.start("job-intake", intake.run)
        tasks.start("dead-letter-recorder", dead_letters.run)
        tasks.start("results-fanout", fanout.run)
        source = SubmissionSource(engine, remembered_results=settings.recent_results)
        tasks.start("stream-results", source.run)
        tasks.start(
            "idempotency-purge",
            lambda: purge_forever(
                engine,
                ttl_s=settings.idempotency_ttl_s,
                batch=settings.idempotency_purge_batch,
                interval_s=settings.idempotency_purge_interval_s,
            ),
        )
        if settings.webhook_secret is not None:
            sender = webhook_sender(engine, settings, runtimes)
            tasks.start("webhook-sender", sender.run)
        tasks.start(
            "retention-purge",
            lambda: retention_forever(
                engine,
                days=settings.retention_days,
                batch=settings.retention_batch,
                interval_s=settings.retention_interval_s,
            ),
        )
        log.info("API services started (%d languages: %s)", len(runtimes), ", ".join(sorted(runtimes)))
        return cls(
            settings=settings,
            engine=engine,
            runtimes=runtimes,
            rules=SubmissionRules.from_settings(settings, runtimes),
            broker=broker,
            source=source,
            relay=relay,
            kafka_probe=KafkaProbe(settings.kafka_bootstrap),
            fanout=fanout,
            tasks=tasks,
            relay_task=relay_task,
        )

    async def stop(self) -> None:
        """Drain and release everything :meth:`start` started."""
        self.relay.request_stop()
        if await first_of(self.relay_task, within_s=RELAY_DRAIN_TIMEOUT_S) is None:
            log.warning(
                "the outbox relay did not finish its batch in %ss; its rows stay for later",
                RELAY_DRAIN_TIMEOUT_S,
            )
        self.broker.close()
        await self.tasks.stop()
        await self.kafka_probe.close()
        await self.engine.dispose()
        log.info("API services stopped")


def webhook_sender(engine: AsyncEngine, settings: ApiSettings, runtimes: dict[str, Runtime]) -> WebhookSender:
    """The task that sends this replica's share of the due webhooks (needs ``webhook_secret``)."""
    assert settings.webhook_secret is not None
    policy = WebhookPolicy(
        secret=settings.webhook_secret.get_secret_value().encode(),
        allowed=list(settings.webhook_allowed_networks),
        timeout_s=settings.webhook_timeout_s,
        retry_for_s=settings.webhook_retry_for_s,
        retry_cap_s=settings.webhook_retry_cap_s,
        poll_s=settings.webhook_poll_s,
    )
    return WebhookSender(engine, policy, WebhookBodies(engine, runtimes).body_of, relay_name())
