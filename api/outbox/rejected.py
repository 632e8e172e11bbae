"""Jobs the outbox can never publish: finish their submissions with ``internal_error``."""

import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from api.results.failures import finish_with_internal_error
from schemas import DecodeError, decode_job

log = logging.getLogger(__name__)


async def fail_unpublishable(conn: AsyncConnection, payload: bytes, message: str) -> None:
    """Mark the submission whose job is ``payload`` finished with ``internal_error``."""
    try:
        job = decode_job(payload)
    except DecodeError as exc:
        log.error("an outbox payload is not a job (%s); nothing to mark", exc.reason)
        return
    await finish_with_internal_error(conn, job, message)
