"""Progress lines on stderr: one per phase, with counts, and a periodic one while a long phase runs."""

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable

_STARTED = time.monotonic()
REPORT_EVERY_S = 10.0


def say(message: str) -> None:
    """One progress line, stamped with the seconds since the run started."""
    print(f"[{time.monotonic() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def counting(
    phase: str, total: int, done: Callable[[], int], *, every_s: float = REPORT_EVERY_S
) -> AsyncIterator[None]:
    """While the block runs, say ``phase: done/total`` every ``every_s`` seconds; at the end once more,
    with the rate."""
    started = time.monotonic()

    async def report() -> None:
        while True:
            await asyncio.sleep(every_s)
            say(f"{phase}: {done():,}/{total:,}")

    reporter = asyncio.create_task(report(), name=f"progress {phase}")
    try:
        yield
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        elapsed = time.monotonic() - started
        say(f"{phase}: {done():,}/{total:,} in {elapsed:.1f} s ({done() / max(elapsed, 1e-9):,.1f}/s)")
