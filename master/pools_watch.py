"""Notices a changed ``pools`` table or ``hosts`` row (an admin's ``PUT`` or ``POST``) within
``pools_poll_s`` and wakes the reconcile loop, which otherwise re-reads them only every ``resync_s``."""

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from common.lifecycle import sleep_or_stop
from master.store import Store

log = logging.getLogger(__name__)


async def watch_pools(
    store: Store, interval_s: float, wake: Callable[[str], None], stop: asyncio.Event
) -> None:
    """Poll the (few, small) ``pools`` rows until ``stop`` is set; call ``wake`` when they changed.

    A poll of one tiny table is the cheapest signal that works with any number of API replicas and
    masters: the API only writes the row, and whichever master is active notices.
    """
    seen: tuple[tuple[object, ...], ...] | None = None
    while not stop.is_set():
        try:
            version = await store.pools_version()
        except SQLAlchemyError as exc:
            log.debug("could not read the pools: %s", exc)
        else:
            if seen is not None and version != seen:
                wake("pools changed")
            seen = version
        await sleep_or_stop(interval_s, stop)
