"""The ``hosts`` rows for the admin API: each engine as an admin configured it and as the active master
last observed it (``hosts.observed``, :class:`schemas.hosts.HostReport`)."""

import asyncio
import logging
from typing import Any, TypedDict

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.admin.host_requests import NewHost
from api.lib.clock import utcnow
from api.lib.errors import ApiError
from common.tables import hosts
from schemas.hosts import HostReport

log = logging.getLogger(__name__)

_CHECK_POLL_S = 0.25
"""How often ``POST`` re-reads a new host's row while it waits for the master's first try."""


class HostView(TypedDict):
    """One host in ``GET /api/v1/admin/hosts``."""

    name: str
    url: str
    state: str
    """``up``, ``draining`` (as an admin asked) or ``down`` (its engine has not answered for
    ``EXECUTIONER_HOST_DOWN_S``; its workers run elsewhere)."""
    cpus: float | None
    memory_mb: int | None
    workers: dict[str, int]
    """Live workers per language."""
    images_ok: bool
    problem: str | None
    observed_at: str | None
    """When the master last reported the host; null before its first report."""


def _view(row: Any) -> HostView:
    report = None
    if row.observed is not None:
        try:
            report = HostReport.model_validate_json(row.observed)
        except ValidationError as exc:  # a master of another version: show the row, say so
            log.warning("host %s: unreadable report: %s", row.name, exc)
    return HostView(
        name=row.name,
        url=row.url,
        state="down" if report is not None and report.down else row.state,
        cpus=None if report is None else report.cpus,
        memory_mb=None if report is None else report.memory_mb,
        workers={} if report is None else report.workers,
        images_ok=report is not None and report.images_ok,
        problem="not observed by a master yet" if report is None else report.problem,
        observed_at=None if report is None else report.observed_at.isoformat(),
    )


async def list_hosts(engine: AsyncEngine) -> list[HostView]:
    """Every host, by name."""
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(hosts).order_by(hosts.c.name))
        return [_view(row) for row in rows]


async def get_host(engine: AsyncEngine, name: str) -> HostView:
    """One host, or 404."""
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(hosts).where(hosts.c.name == name))).first()
    if row is None:
        raise ApiError(404, "not_found", f"no host {name!r}; see GET /api/v1/admin/hosts")
    return _view(row)


async def add_host(engine: AsyncEngine, host: NewHost, check_s: float) -> HostView:
    """Insert the host (``up``); 409 when the name is taken. Then (``check_s`` > 0: a master is active)
    wait up to ``check_s`` for the master's first try of the engine: one it cannot reach is removed again
    and refused (422 naming ``url``); one not tried by then stays, and shows as ``down`` if it never
    answers."""
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(hosts).values(name=host.name, url=host.url, state="up", updated_at=utcnow())
            )
    except IntegrityError:
        raise ApiError(409, "conflict", f"a host named {host.name!r} exists already", "name") from None
    if check_s > 0:
        error = await _first_try(engine, host.name, check_s)
        if error is not None:
            async with engine.begin() as conn:
                await conn.execute(sa.delete(hosts).where(hosts.c.name == host.name, hosts.c.url == host.url))
            raise ApiError(422, "host_unreachable", f"the master cannot reach {host.url}: {error}", "url")
    return await get_host(engine, host.name)


async def _first_try(engine: AsyncEngine, name: str, within_s: float) -> str | None:
    """The error of the master's first connection to host ``name``, None once it answered or when the
    master has not tried within ``within_s`` (it reports every pass; a new row wakes it within
    ``EXECUTIONER_POOLS_POLL_S``)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        async with engine.connect() as conn:
            observed = await conn.scalar(sa.select(hosts.c.observed).where(hosts.c.name == name))
        if observed is not None:
            report = HostReport.model_validate_json(observed)
            if report.reachable or report.error is not None:
                return report.error if not report.reachable else None
        await asyncio.sleep(_CHECK_POLL_S)
    return None


async def set_host_state(engine: AsyncEngine, name: str, state: str) -> HostView:
    """Store what the admin asks of the host (``up`` or ``draining``)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            sa.update(hosts).where(hosts.c.name == name).values(state=state, updated_at=utcnow())
        )
    if result.rowcount != 1:
        raise ApiError(404, "not_found", f"no host {name!r}; see GET /api/v1/admin/hosts")
    return await get_host(engine, name)


async def delete_host(engine: AsyncEngine, name: str) -> None:
    """Remove an empty host: 409 while the master reports workers on it (drain it first) or has never
    reported it empty."""
    host = await get_host(engine, name)
    if host["observed_at"] is None or any(host["workers"].values()) or host["state"] == "down":
        raise ApiError(
            409,
            "host_not_empty",
            f"host {name!r} may still run workers ({host['workers'] or 'not observed empty'}, state "
            f"{host['state']}): drain it (PUT state draining) and wait until it reports none",
        )
    async with engine.begin() as conn:
        await conn.execute(sa.delete(hosts).where(hosts.c.name == name))
