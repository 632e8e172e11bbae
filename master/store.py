"""The master's MySQL tables: desired counts in (``pools``), observations out (``pool_status``,
``runtime_versions``). The API owns the schema (it runs the migrations); this module only reads and
writes rows."""

import asyncio
import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import func, select, update
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from common.lifecycle import wait_or_stop
from common.tables import hosts, pool_status, pools, runtime_versions
from master.report import PoolStatus
from schemas.hosts import HostReport

log = logging.getLogger(__name__)

_NO_SUCH_TABLE = 1146


@dataclass(frozen=True, slots=True)
class HostRow:
    """One ``hosts`` row: a Docker engine and what an admin asked of it (``up`` or ``draining``)."""

    name: str
    url: str
    state: str


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """One ``pools`` row: a fixed size, or (``autoscale``) bounds within which the master sizes the pool
    itself, keeping its current choice in ``replicas``."""

    language: str
    replicas: int
    min_replicas: int | None
    max_replicas: int | None
    autoscale: bool

    @property
    def bounds(self) -> tuple[int, int]:
        """min and max of an autoscaled pool (its current size for an unset one)."""
        low = self.replicas if self.min_replicas is None else self.min_replicas
        high = max(low, self.replicas if self.max_replicas is None else self.max_replicas)
        return low, high


def db_now() -> datetime:
    """The current time as the database stores it: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    await wait_or_stop(asyncio.sleep(seconds), stop)


def _log_not_ready(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    code = orig.args[0] if orig is not None and orig.args else None
    if code == _NO_SUCH_TABLE:
        # MySQL says "Table 'database.name' doesn't exist": name the table.
        found = re.search(r"\.(\w+)'", str(orig))
        table = found.group(1) if found else "?"
        log.info("MySQL is up but has no `%s` table yet: waiting for the API's migrations", table)
    else:
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("MySQL not reachable yet (%s); retrying in %.1fs", orig, delay)


class Store:
    """Reads and writes the master's rows."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_async_engine(database_url, pool_pre_ping=True, pool_recycle=3600)

    async def wait_ready(self, stop: asyncio.Event, max_delay_s: float = 5.0) -> bool:
        """Wait until MySQL answers and the master's tables exist (the API's migrations create them; DDL
        commits one statement at a time, so ``pools`` may exist before ``hosts``); False when ``stop`` was
        set first."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(DBAPIError),
            wait=wait_exponential(multiplier=0.5, max=max_delay_s),  # 0.5 s, 1 s, 2 s, ... max_delay_s
            sleep=partial(_sleep_unless_stopped, stop),
            before_sleep=_log_not_ready,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if stop.is_set():
                    return False
                async with self._engine.connect() as conn:
                    for table in (pools, hosts):
                        await conn.execute(select(func.count()).select_from(table))
        return True

    async def seed_pools(self, languages: Collection[str], replicas: int) -> None:
        """Give each language without a ``pools`` row one with ``replicas``; existing rows are kept."""
        if not languages:
            return
        now = db_now()
        stmt = insert(pools).values(
            [{"language": lang, "replicas": replicas, "updated_at": now} for lang in languages]
        )
        # A no-op update: the row someone already configured wins.
        stmt = stmt.on_duplicate_key_update(language=stmt.inserted.language)
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def seed_hosts(self, configured: Mapping[str, str]) -> None:
        """Add each configured host that has no ``hosts`` row (``up``); existing rows are kept, since an
        admin may have drained or re-pointed them."""
        if not configured:
            return
        now = db_now()
        stmt = insert(hosts).values(
            [{"name": name, "url": url, "state": "up", "updated_at": now} for name, url in configured.items()]
        )
        stmt = stmt.on_duplicate_key_update(name=stmt.inserted.name)
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def read_hosts(self) -> list[HostRow]:
        """Every ``hosts`` row, by name."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(hosts.c.name, hosts.c.url, hosts.c.state).order_by(hosts.c.name))
            return [HostRow(*row) for row in rows]

    async def write_host_reports(self, reports: Mapping[str, HostReport]) -> None:
        """Store what the master observed of each host (rows an admin deleted meanwhile stay deleted)."""
        async with self._engine.begin() as conn:
            for name, report in reports.items():
                await conn.execute(
                    update(hosts).where(hosts.c.name == name).values(observed=report.model_dump_json())
                )

    async def desired_replicas(self, languages: Collection[str]) -> dict[str, int]:
        """The desired worker count of each of ``languages`` that has a ``pools`` row."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(pools.c.language, pools.c.replicas).where(pools.c.language.in_(list(languages)))
            )
            return {language: replicas for language, replicas in rows}

    async def pool_configs(self, languages: Collection[str]) -> dict[str, PoolConfig]:
        """The ``pools`` rows of ``languages``."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    pools.c.language,
                    pools.c.replicas,
                    pools.c.min_replicas,
                    pools.c.max_replicas,
                    pools.c.autoscale,
                ).where(pools.c.language.in_(list(languages)))
            )
            return {row.language: PoolConfig(*row) for row in rows}

    async def set_autoscaled_replicas(self, config: PoolConfig, replicas: int) -> bool:
        """Store the autoscaler's new desired count of ``config``'s pool, unless the row changed since it
        was read (an admin's ``PUT`` wins); True when stored."""
        stmt = (
            update(pools)
            .where(
                pools.c.language == config.language,
                pools.c.autoscale.is_(True),
                pools.c.replicas == config.replicas,
                pools.c.min_replicas == config.min_replicas,
                pools.c.max_replicas == config.max_replicas,
            )
            .values(replicas=replicas, updated_at=db_now())
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt)
            return bool(result.rowcount == 1)

    async def pools_version(self) -> tuple[tuple[object, ...], ...]:
        """Every ``pools`` row and what admins set of every ``hosts`` row, as tuples: compared between
        two reads, it tells whether an admin changed anything (a host added or drained included)."""
        async with self._engine.connect() as conn:
            rows = list(await conn.execute(select(pools).order_by(pools.c.language)))
            rows += await conn.execute(
                select(hosts.c.name, hosts.c.url, hosts.c.state).order_by(hosts.c.name)
            )
            return tuple(tuple(row) for row in rows)

    async def write_status(self, statuses: Mapping[str, PoolStatus]) -> None:
        """Replace each language's ``pool_status`` row."""
        if not statuses:
            return
        now = db_now()
        stmt = insert(pool_status).values(
            [
                {"language": lang, "observed": s.model_dump_json(), "updated_at": now}
                for lang, s in statuses.items()
            ]
        )
        stmt = stmt.on_duplicate_key_update(
            observed=stmt.inserted.observed, updated_at=stmt.inserted.updated_at
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def recorded_image_id(self, language: str) -> str | None:
        """The image id whose version is recorded for ``language``."""
        async with self._engine.connect() as conn:
            image_id = await conn.scalar(
                select(runtime_versions.c.image_id).where(runtime_versions.c.language == language)
            )
            return None if image_id is None else str(image_id)

    async def record_version(self, language: str, image_id: str, version: str) -> None:
        """Store the toolchain version of ``language``'s image."""
        stmt = insert(runtime_versions).values(
            language=language, image_id=image_id, version=version, updated_at=db_now()
        )
        stmt = stmt.on_duplicate_key_update(
            image_id=stmt.inserted.image_id,
            version=stmt.inserted.version,
            updated_at=stmt.inserted.updated_at,
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._engine.dispose()
