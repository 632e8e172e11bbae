"""SSE fan-out: K idle event streams held open on one API process, then a result for every one of them.

The submissions are real (``POST``) but no worker runs them: the pool is at 0 and the bench publishes
each submission's ``result`` event to the results topic itself, stamped with the time it is produced, so
the measured delay is Kafka → API fan-out → SSE → client, for K results arriving in one burst. Memory per
connection is the API's resident memory growth from before the streams opened to when all were open.
"""

import asyncio
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from bench.cpu import CpuMeter
from bench.progress import counting, say
from bench.report import pace
from bench.scenarios import Context
from bench.sse import SseStream
from bench.stats import slices, summary_ms
from bench.targets import at_most
from bench.workload import SHORT_PYTHON, Submitted, http_client, submit_all
from schemas import Limits, Outcome, ResultEvent, RunReport, Verdict

OPENING_AT_ONCE = 256
"""Streams being opened concurrently (the API's listen backlog must not overflow)."""
SPARE_FDS = 512
SETTLE_S = 2.0
"""Pause before reading the API's memory, so that buffers of the last streams are accounted for."""
TARGET_KIB_PER_CONNECTION = 40.0
TARGET_P99_DELAY_MS = 100.0
TARGET_RATE = 1000.0
"""Targets (issue 15): 10,000 idle streams at <= 40 KiB each; p99 delay <= 100 ms at 1,000 results/s."""


def require_fds(needed: int) -> None:
    """Fail early when this process (and so the API, which inherited its limits: bench.__main__ raised
    them) may not open ``needed`` files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise RuntimeError(f"{needed:,} file descriptors needed, the limit is {soft:,} (ulimit -n / -Hn)")


def _result(submission: UUID) -> ResultEvent:
    run = RunReport(verdict=Verdict.ACCEPTED, exit_code=0, stdout="499500\n")
    outcome = Outcome(verdict=Verdict.ACCEPTED, run=run, limits=Limits().effective(), worker="bench-fanout")
    return ResultEvent(id=submission, seq=2, outcome=outcome, at=datetime.now(UTC))


class Streams:
    """The K open streams: each is opened, reads its first event, then waits for ``result``."""

    def __init__(self, api_url: str, ids: list[UUID]) -> None:
        self._api_url = api_url
        self._ids = ids
        self._opening = asyncio.Semaphore(OPENING_AT_ONCE)
        self.open = 0
        self.all_open = asyncio.Event()
        self.received: dict[UUID, float] = {}
        self.failures: list[str] = []

    async def _follow(self, submission: UUID) -> None:
        async with self._opening:
            stream = await SseStream.open(f"{self._api_url}/api/v1/submissions/{submission}/events")
        try:
            first = await stream.next_event()
            if first is None or first.event != "status":
                raise RuntimeError(f"expected the queued status first, got {first}")
            self.open += 1
            self._check_all_open()
            await stream.until("result")
            self.received[submission] = time.time()
        finally:
            stream.close()

    async def follow(self, submission: UUID) -> None:
        """One client; a failure is counted, not raised (the others keep going)."""
        try:
            await self._follow(submission)
        except (OSError, EOFError, ValueError, RuntimeError) as exc:
            self.failures.append(f"{type(exc).__name__}: {exc}")
            if len(self.failures) == 1:
                say(f"fanout: first client failure: {self.failures[0]}")
            self._check_all_open()

    def _check_all_open(self) -> None:
        """Every client is either open or has failed: the waiting for streams is over."""
        if self.open + len(self.failures) >= len(self._ids):
            self.all_open.set()


async def run(ctx: Context) -> dict[str, Any]:
    """Open K streams, measure memory, publish K results, measure delays."""
    count = ctx.options.counts.clients
    require_fds(count + SPARE_FDS)
    await ctx.cluster.scale(SHORT_PYTHON.language, 0)
    submitted = Submitted([], [])
    timeout = ctx.timeout_for(count, slowest_rate=min(50.0, ctx.options.fanout_rate or 50.0))
    async with (
        http_client(ctx.cluster.api_url, ctx.options.http_clients) as client,
        counting("fanout: submitted", count, lambda: len(submitted.ids)),
    ):
        await asyncio.wait_for(
            submit_all(client, SHORT_PYTHON, count, ctx.options.http_clients, submitted), timeout
        )
    ids = submitted.ids
    streams = Streams(ctx.cluster.api_url, ids)
    await asyncio.sleep(SETTLE_S)
    rss_before = ctx.cluster.rss_kib("api")
    tasks = [asyncio.create_task(streams.follow(i), name=f"sse client {n}") for n, i in enumerate(ids)]
    try:
        async with counting("fanout: streams open", count, lambda: streams.open):
            await asyncio.wait_for(streams.all_open.wait(), timeout)
        await asyncio.sleep(SETTLE_S)
        rss_open = ctx.cluster.rss_kib("api")
        stamped: dict[UUID, datetime] = {}

        def results() -> Iterator[tuple[UUID, ResultEvent]]:
            for submission in ids:
                event = _result(submission)
                stamped[submission] = event.at
                yield submission, event

        with ctx.watcher.paused():
            async with (
                CpuMeter(ctx.cluster, "fanout") as cpu,
                counting("fanout: results received", count, lambda: len(streams.received)),
            ):
                rate = ctx.options.fanout_rate or None
                publishing = time.monotonic()
                await ctx.producer.send_all(ctx.cluster.topics.results, results(), rate=rate)
                publish_s = time.monotonic() - publishing
                await asyncio.wait_for(asyncio.gather(*tasks), timeout)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    rss_after = ctx.cluster.rss_kib("api")
    # In publishing order: the slices show whether the delay grows over the phase (a queue) or not.
    delays = [(streams.received[i] - stamped[i].timestamp()) * 1000 for i in ids if i in streams.received]
    growth_kib = (rss_open or 0) - (rss_before or 0)
    per_connection = round(growth_kib / count, 2)
    p99 = summary_ms(delays).get("p99")
    rate_text = pace(ctx.options.fanout_rate or None)
    return {
        "clients": count,
        "results_per_s": ctx.options.fanout_rate or None,  # None: all in one burst
        "received": len(delays),
        "failures": len(streams.failures),
        "first_failure": streams.failures[0] if streams.failures else None,
        "api_rss_mib": {
            name: None if kib is None else round(kib / 1024, 1)
            for name, kib in (("before", rss_before), ("open", rss_open), ("after", rss_after))
        },
        "kib_per_connection": per_connection,
        "delay_ms": summary_ms(delays),
        "delay_ms_by_tenth": [summary_ms(part) for part in slices(delays, 10)],
        "publish_s": round(publish_s, 2),
        "cpu": cpu.report(count),
        "targets": [
            at_most(
                f"API KiB per idle SSE stream ({count:,})", per_connection, TARGET_KIB_PER_CONNECTION, "KiB"
            ),
            at_most(
                f"p99 result delay at {rate_text} (target's: {TARGET_RATE:,.0f}/s)",
                p99,
                TARGET_P99_DELAY_MS,
                "ms",
            ),
        ],
    }
