"""The master's MySQL tables: desired counts in (``pools``), observations out (``pool_status``,
``runtime_versions``). The API owns the schema (it runs the migrations); this module only reads and
writes rows."""

import asyncio
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, func, select, update
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from common.hosts_table import hosts
from common.lifecycle import wait_or_stop
from master.report import PoolStatus
from schemas.hosts import HostReport

log = logging.getLogger(__name__)

_metadata = MetaData()
pools = Table(
    "pools",
    _metadata,
    Column("language", String(32), primary_key=True),
    Column("replicas", Integer, nullable=False),
    Column("min_replicas", Integer, nullable=True),
    Column("max_replicas", Integer, nullable=True),
    Column("autoscale", Boolean, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
pool_status = Table(
    "pool_status",
    _metadata,
    Column("language", String(32), primary_key=True),
    Column("observed", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
runtime_versions = Table(
    "runtime_versions",
    _metadata,
    Column("language", String(32), primary_key=True),
    Column("image_id", String(100), nullable=False),
    Column("version", String(255), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

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


class Store:
    """Reads and writes the master's rows."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_async_engine(database_url, pool_pre_ping=True, pool_recycle=3600)

    async def wait_ready(self, stop: asyncio.Event, max_delay_s: float = 5.0) -> bool:
        """Wait until MySQL answers and the master's tables exist (the API's migrations create them; DDL
        commits one statement at a time, so ``pools`` may exist before ``hosts``); False when ``stop`` was
        set first."""
        delay = 0.5
        while not stop.is_set():
            table = pools
            try:
                async with self._engine.connect() as conn:
                    for table in (pools, hosts):
                        await conn.execute(select(func.count()).select_from(table))
                return True
            except DBAPIError as exc:
                code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
                if code == _NO_SUCH_TABLE:
                    log.info(
                        "MySQL is up but has no `%s` table yet: waiting for the API's migrations", table.name
                    )
                else:
                    log.warning("MySQL not reachable yet (%s); retrying in %.1fs", exc.orig, delay)
            await wait_or_stop(asyncio.sleep(delay), stop)
            delay = min(delay * 2, max_delay_s)
        return False

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
        """Every ``pools`` row as a tuple: compared between two reads, it tells whether anything changed."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(pools).order_by(pools.c.language))
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
