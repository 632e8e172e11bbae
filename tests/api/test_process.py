"""``python -m api`` (what ``executioner-api`` runs): serves, and on SIGTERM ends open SSE streams
cleanly, stops its background tasks and exits."""

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

from devstack import processes
from tests.api.support import eventually, kafka_bootstrap, submit

REPO = Path(__file__).resolve().parents[2]


async def test_sigterm_ends_streams_cleanly_and_stops(
    new_database: Callable[[], Awaitable[str]], new_topic_prefix: Callable[[], str], tmp_path: Path
) -> None:
    port = processes.free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")},
        "EXECUTIONER_DATABASE_URL": await new_database(),
        "EXECUTIONER_KAFKA_BOOTSTRAP": kafka_bootstrap(),
        "EXECUTIONER_TOPIC_PREFIX": new_topic_prefix(),
        "EXECUTIONER_API_PORT": str(port),
    }
    log = (tmp_path / "api.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api", cwd=REPO, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> bool | None:
                assert proc.returncode is None, (tmp_path / "api.log").read_text()
                try:
                    return True if (await client.get("/readyz")).status_code == 200 else None
                except httpx.TransportError:
                    return None

            await eventually(ready, within_s=90)
            accepted = await submit(client)
            async with asyncio.timeout(30), aconnect_sse(client, "GET", accepted["events"]) as source:
                events = source.aiter_sse()
                assert (await anext(events)).event == "status"
                proc.send_signal(signal.SIGTERM)
                # The stream ends (a complete HTTP response, no error) without a result: the client
                # reconnects elsewhere and resumes with Last-Event-ID.
                assert [sse.event async for sse in events] == []
        # uvicorn re-raises the SIGTERM it handled once it is done, so "exited because of SIGTERM".
        assert await asyncio.wait_for(proc.wait(), 30) == -signal.SIGTERM, (tmp_path / "api.log").read_text()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()
