"""One active master per cluster: a MySQL named lock, held on a connection of its own for as long as the
master acts.

Why ``GET_LOCK`` rather than a lease row (a row with an owner and an expiry that the owner renews):
the lock belongs to the MySQL session, so the server frees it the moment the session ends. A master
that dies (SIGKILL, OOM, a crashed host whose TCP connection is reset) hands over in about one standby
retry, with no expiry to wait out, no renewal writes, and no clocks to agree on. A master that merely
loses its connection stops acting at its next check, before a standby can have taken over the lock.
The limit is the same as a lease's: MySQL must be up for anyone to become or stay active; while it is
not, the workers keep serving and nobody changes them.
"""

import asyncio
import hashlib
import logging
import os
import socket
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from common.lifecycle import sleep_or_stop
from schemas.pools import MasterReport

log = logging.getLogger(__name__)

MYSQL_LOCK_NAME_MAX = 64
CHECK_TIMEOUT_S = 5.0


def lock_name(cluster: str) -> str:
    """``executioner-master-<cluster>``; a hash of the cluster name when that is too long for MySQL."""
    name = f"executioner-master-{cluster}"
    if len(name) > MYSQL_LOCK_NAME_MAX:
        name = f"executioner-master-{hashlib.sha256(cluster.encode()).hexdigest()[:32]}"
    return name


def master_id() -> str:
    """This process, as other people see it in the pool status: ``<host>:<pid>``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Leadership:
    """Takes, holds and gives back the cluster's master lock."""

    def __init__(
        self, database_url: str, cluster: str, retry_s: float, *, metrics: str | None = None
    ) -> None:
        # No pool: the lock lives and dies with exactly one connection, which nothing else may use.
        self._engine = create_async_engine(database_url, poolclass=NullPool)
        self._retry_s = retry_s
        self.lock = lock_name(cluster)
        self._metrics = metrics
        self._conn: AsyncConnection | None = None
        self.report: MasterReport | None = None
        """Who holds the lock, while this master does."""

    @property
    def held(self) -> bool:
        """Whether this master holds the lock (as of its last check)."""
        return self.report is not None

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait as a standby until the lock is ours (True) or ``stop`` is set (False)."""
        waiting_logged = False
        while not stop.is_set():
            try:
                if await self._try_acquire():
                    return True
                if not waiting_logged:
                    log.info("standing by: another master holds %s", self.lock)
                    waiting_logged = True
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                log.warning("could not ask MySQL for %s (%s); retrying", self.lock, exc)
            await sleep_or_stop(self._retry_s, stop)
        return False

    async def _try_acquire(self) -> bool:
        conn = await self._engine.connect()
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                got = await conn.scalar(text("SELECT GET_LOCK(:name, 0)"), {"name": self.lock})
                connection_id = await conn.scalar(text("SELECT CONNECTION_ID()"))
        except BaseException:
            await conn.close()
            raise
        if got != 1:
            await conn.close()
            return False
        self._conn = conn
        self.report = MasterReport(
            id=master_id(),
            lock=self.lock,
            connection_id=int(connection_id),
            active_since=datetime.now(UTC),
            metrics=self._metrics,
        )
        log.info("active master of %s (MySQL connection %s)", self.lock, connection_id)
        return True

    async def hold(self, stop: asyncio.Event) -> None:
        """Check every ``retry_s`` that the lock is still ours; return when it is not (the connection
        broke) or when ``stop`` is set."""
        while not stop.is_set():
            if not await self._still_held():
                log.error("lost %s: acting no more until it is ours again", self.lock)
                await self.release()
                return
            await sleep_or_stop(self._retry_s, stop)

    async def _still_held(self) -> bool:
        if self._conn is None or self.report is None:
            return False
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                holder = await self._conn.scalar(text("SELECT IS_USED_LOCK(:name)"), {"name": self.lock})
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("checking %s failed: %s", self.lock, exc)
            return False
        return bool(holder == self.report.connection_id)

    async def release(self) -> None:
        """Give the lock back (by closing its connection) and forget it."""
        conn, self._conn, self.report = self._conn, None, None
        if conn is not None:
            try:
                await conn.close()
            except (SQLAlchemyError, OSError) as exc:  # a broken connection: the lock is gone with it
                log.debug("closing the lock connection: %s", exc)

    async def close(self) -> None:
        """Release the lock if held, and the engine."""
        await self.release()
        await self._engine.dispose()
