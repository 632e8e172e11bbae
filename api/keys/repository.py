"""The ``api_keys`` table: creating, listing, revoking and finding submitter keys."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.keys.tokens import new_key_id, new_token, token_hash
from api.lib.clock import utcnow
from api.settings import KeyLimitOverrides
from common.tables import api_keys, submissions

_LIMIT_COLUMNS = ("submissions_per_minute", "active_jobs", "cpu_seconds_per_day")


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A submitter key as stored (never its token)."""

    id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    overrides: KeyLimitOverrides

    def refusal(self, now: datetime) -> str | None:
        """Why the key may not be used at ``now`` (naive UTC), or None when it may."""
        if self.revoked_at is not None:
            return f"key {self.id} was revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return f"key {self.id} expired"
        return None


@dataclass(frozen=True, slots=True)
class NewKey:
    """What an admin asks for."""

    name: str
    scopes: frozenset[str]
    expires_at: datetime | None
    overrides: KeyLimitOverrides


def _key_row(row: Any) -> KeyRow:
    return KeyRow(
        id=row.id,
        name=row.name,
        scopes=frozenset(row.scopes.split()),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        overrides=KeyLimitOverrides(**{name: getattr(row, name) for name in _LIMIT_COLUMNS}),
    )


async def create_key(engine: AsyncEngine, new: NewKey, secret: str) -> tuple[KeyRow, str]:
    """Store a new key; returns it and its token (the only time the token exists outside the caller)."""
    key_id = new_key_id()
    token = new_token(key_id)
    values = {
        "id": key_id,
        "name": new.name,
        "token_hash": token_hash(secret, token),
        "scopes": " ".join(sorted(new.scopes)),
        "created_at": utcnow(),
        "expires_at": new.expires_at,
        **new.overrides.model_dump(),
    }
    async with engine.begin() as conn:
        await conn.execute(api_keys.insert().values(values))
        row = (await conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id))).one()
    return _key_row(row), token


async def list_keys(engine: AsyncEngine) -> list[KeyRow]:
    """Every key, oldest first, revoked ones included."""
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
        return [_key_row(row) for row in rows]


async def revoke_key(engine: AsyncEngine, key_id: str) -> KeyRow | None:
    """Revoke key ``key_id`` (once: a second revocation keeps the first time); None if there is none."""
    async with engine.begin() as conn:
        await conn.execute(
            api_keys.update()
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        row = (await conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id))).first()
    return None if row is None else _key_row(row)


async def find_key(engine: AsyncEngine, token: str, secret: str) -> KeyRow | None:
    """The key whose token is ``token``, or None."""
    query = sa.select(api_keys).where(api_keys.c.token_hash == token_hash(secret, token))
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return None if row is None else _key_row(row)


async def read_keys(conn: AsyncConnection, key_ids: set[str]) -> dict[str, KeyRow]:
    """The keys of ``key_ids`` that exist, by id, within the caller's transaction."""
    if not key_ids:
        return {}
    rows = await conn.execute(sa.select(api_keys).where(api_keys.c.id.in_(sorted(key_ids))))
    return {row.id: _key_row(row) for row in rows}


async def submission_owners(engine: AsyncEngine, ids: list[str]) -> dict[str, str | None]:
    """The owning key of each submission of ``ids`` that exists (None: owned by no key)."""
    query = sa.select(submissions.c.id, submissions.c.owner_key).where(submissions.c.id.in_(ids))
    async with engine.connect() as conn:
        return {row.id: row.owner_key for row in await conn.execute(query)}
