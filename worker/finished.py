"""Whether a job already finished, and its stored result, and whether the submitter key a job names may
still be used: read from MySQL with a read-only account.

A grader that retries a job id which already has a result gets that result published again instead of a
second run, and a job whose first run was recorded just before its worker died is not run twice. The
check fails open: when MySQL is unreachable or slower than the timeout the job simply runs (at least once
beats never). An outage is logged once; checks are then skipped for a while, so that jobs do not each wait
out the timeout, and its end is logged too.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import asyncmy
from asyncmy.errors import MySQLError

from schemas.results import Outcome, ResultEvent
from schemas.verdicts import Status

log = logging.getLogger(__name__)

QUERY = (
    "SELECT submissions.status, submissions.outcome, submissions.last_seq, submissions.finished_at \n"
    "FROM submissions \n"
    "WHERE submissions.id = %s"
)
"""The look-up, as SQLAlchemy compiles it from ``common.tables`` for MySQL (a unit test checks they are the
same, so the table and this query cannot drift apart; the worker's images do not install SQLAlchemy)."""
KEY_QUERY = "SELECT api_keys.revoked_at, api_keys.expires_at \nFROM api_keys \nWHERE api_keys.id = %s"
"""The look-up of a job's submitter key, as SQLAlchemy compiles it from ``common.tables`` (checked by the
same unit test)."""
RETRY_AFTER_S = 10.0
"""After a failed check, how long jobs run unchecked before MySQL is asked again."""
POOL_RECYCLE_S = 300
MYSQL_PORT = 3306
_SCHEMES = ("mysql", "mysql+asyncmy")


def connect_options(url: str) -> dict[str, Any]:
    """asyncmy's connection options from a SQLAlchemy-style URL,
    ``mysql+asyncmy://user:password@host:port/database``; :class:`ValueError` when it is not one."""
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    if parts.scheme not in _SCHEMES or not parts.hostname or not database:
        raise ValueError("expected mysql+asyncmy://user:password@host:port/database")
    return {
        "host": parts.hostname,
        "port": parts.port or MYSQL_PORT,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": unquote(database),
    }


def stored_result(job_id: UUID, row: tuple[Any, ...] | None) -> ResultEvent | None:
    """The result event a ``QUERY`` row holds, or None when the submission is unknown or unfinished."""
    if row is None:
        return None
    status, outcome, last_seq, finished_at = row
    if status != Status.FINISHED.value or not outcome:
        return None
    at = finished_at.replace(tzinfo=UTC) if isinstance(finished_at, datetime) else datetime.now(UTC)
    return ResultEvent(id=job_id, seq=last_seq, outcome=Outcome.model_validate_json(outcome), at=at)


def key_refusal(key_id: str, row: tuple[Any, ...] | None, now: datetime) -> str | None:
    """Why jobs of submitter key ``key_id`` (its ``KEY_QUERY`` row) may not run at ``now`` (naive UTC),
    or None when they may; the dead letter's reason, worded as the API words its 401s."""
    if row is None:
        return f"unknown key {key_id}"
    revoked_at, expires_at = row
    if revoked_at is not None:
        return f"key {key_id} was revoked"
    if expires_at is not None and expires_at <= now:
        return f"key {key_id} expired"
    return None


class FinishedResults:
    """Looks up stored results through a small pool of connections, opened on first use."""

    def __init__(self, url: str, *, timeout_s: float, connections: int) -> None:
        self._options = connect_options(url)
        self._timeout_s = timeout_s
        self._connections = connections
        self._pool: asyncmy.Pool | None = None
        self._down_until: float | None = None
        """While MySQL is considered down: when to ask it again (monotonic seconds)."""

    @property
    def where(self) -> str:
        """``host:port/database``, for log lines (no credentials)."""
        options = self._options
        return f"{options['host']}:{options['port']}/{options['database']}"

    async def lookup(self, job_id: UUID) -> ResultEvent | None:
        """The stored result of ``job_id`` if it already finished; None when it did not, or when we cannot
        tell (MySQL down or slow, a row we cannot read): then the job should run."""
        if self._down_until is not None and time.monotonic() < self._down_until:
            return None
        try:
            async with asyncio.timeout(self._timeout_s):
                row = await self._fetch(str(job_id))
        except (MySQLError, OSError, TimeoutError) as exc:
            if self._down_until is None:
                log.warning(
                    "cannot look up finished jobs in MySQL at %s (%s): jobs run unchecked until it answers",
                    self.where,
                    f"no answer within {self._timeout_s} s" if isinstance(exc, TimeoutError) else exc,
                )
            self._down_until = time.monotonic() + RETRY_AFTER_S
            return None
        if self._down_until is not None:
            log.info("MySQL at %s answers again: finished jobs are no longer run twice", self.where)
            self._down_until = None
        try:
            return stored_result(job_id, row)
        except ValueError as exc:  # pydantic's ValidationError included
            log.warning("the stored outcome of %s is unreadable (%s); running the job", job_id, exc)
            return None

    async def key_refusal(self, key_id: str) -> str | None:
        """Why jobs of submitter key ``key_id`` must not run (unknown, revoked, expired), or None when they
        may, or when MySQL cannot tell (down or slow): like :meth:`lookup`, the job then runs rather than
        wait for an outage to end (docs/security.md)."""
        if self._down_until is not None and time.monotonic() < self._down_until:
            return None
        try:
            async with asyncio.timeout(self._timeout_s):
                row = await self._fetch(key_id, KEY_QUERY)
        except (MySQLError, OSError, TimeoutError) as exc:
            log.warning(
                "cannot check submitter key %s in MySQL at %s (%s): the job runs", key_id, self.where, exc
            )
            self._down_until = time.monotonic() + RETRY_AFTER_S
            return None
        return key_refusal(key_id, row, datetime.now(UTC).replace(tzinfo=None))

    async def _fetch(self, job_id: str, query: str = QUERY) -> tuple[Any, ...] | None:
        if self._pool is None:
            self._pool = await asyncmy.create_pool(
                minsize=0,
                maxsize=self._connections,
                pool_recycle=POOL_RECYCLE_S,
                connect_timeout=max(1, round(self._timeout_s)),
                autocommit=True,  # no transaction: each query sees the latest committed rows
                **self._options,
            )
        async with self._pool.acquire() as connection:
            try:
                async with connection.cursor() as cursor:
                    await cursor.execute(query, (job_id,))
                    row: tuple[Any, ...] | None = await cursor.fetchone()
                    return row
            except BaseException:
                connection.close()  # a query cut short leaves the connection unusable
                raise

    async def close(self) -> None:
        """Close the connections."""
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None
