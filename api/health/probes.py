"""A quick, bounded check of Kafka, for ``/readyz`` (MySQL's is :func:`api.db.engine.database_ok`)."""

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0


class KafkaProbe:
    """Asks the cluster for its metadata; keeps one admin connection between checks."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()

    async def ok(self, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
        """Whether a broker answers a metadata request within ``timeout_s``."""
        async with self._lock:  # concurrent probes share one client and one answer at a time
            try:
                await asyncio.wait_for(self._describe(), timeout_s)
            except (TimeoutError, KafkaError, OSError) as exc:
                log.debug("Kafka probe failed: %r", exc)
                await self.close()
                return False
            return True

    async def _describe(self) -> None:
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=2000)
            try:
                await admin.start()
            except BaseException:
                await admin.close()
                raise
            self._admin = admin
        await self._admin.describe_cluster()

    async def close(self) -> None:
        """Drop the admin connection."""
        admin, self._admin = self._admin, None
        if admin is not None:
            await admin.close()
