"""The per-key limits are counted in MySQL: two ``python -m api`` processes on one database admit no
more than the limit between them, even when a burst hits both at once, and a restarted process still
knows what was used."""

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import orjson

from devstack import processes
from tests.api.keys.conftest import ADMIN, AUTH_SECRET, make_key
from tests.api.support import eventually, kafka_bootstrap

REPO = Path(__file__).resolve().parents[3]
PYTHON = {"language": "python", "source": "print(42)"}
ACTIVE_JOBS = 4


@contextlib.asynccontextmanager
async def api_process(env: dict[str, str], log_path: Path) -> AsyncIterator[str]:
    """``python -m api`` with ``env`` on a free port until the block ends (SIGTERM); yields its URL."""
    port = processes.free_port()
    with log_path.open("ab") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "api",
            cwd=REPO,
            env={**env, "EXECUTIONER_API_PORT": str(port)},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:

            async def ready() -> bool | None:
                assert proc.returncode is None, f"the API exited; see {log_path}"
                try:
                    return True if (await client.get("/readyz")).status_code == 200 else None
                except httpx.TransportError:
                    return None

            await eventually(ready, within_s=90)
        yield url
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def statuses(urls: list[str], token: str, count: int) -> list[int]:
    """``count`` submissions sent at once, spread over ``urls``; their answers' statuses."""
    headers = {"Authorization": f"Bearer {token}"}

    async def one(url: str) -> int:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            return (await http.post("/api/v1/submissions", json=PYTHON)).status_code

    return list(await asyncio.gather(*(one(urls[i % len(urls)]) for i in range(count))))


async def test_two_api_processes_and_a_restart_hold_one_limit(
    new_database: Callable[[], Awaitable[str]], new_topic_prefix: Callable[[], str], tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")},
        "EXECUTIONER_DATABASE_URL": await new_database(),
        "EXECUTIONER_KAFKA_BOOTSTRAP": kafka_bootstrap(),
        "EXECUTIONER_TOPIC_PREFIX": new_topic_prefix(),
        "EXECUTIONER_ADMIN_TOKEN": ADMIN,
        "EXECUTIONER_AUTH": "keys",
        "EXECUTIONER_AUTH_SECRET": AUTH_SECRET,
        "EXECUTIONER_LIMITS": orjson.dumps(
            {"active_jobs": ACTIVE_JOBS, "submissions_per_minute": 1000}
        ).decode(),
    }
    async with api_process(env, tmp_path / "a.log") as first, api_process(env, tmp_path / "b.log") as second:
        key = await make_key(first, ["submit", "read"])
        # No worker runs these jobs: they stay queued, so the limit is reached and stays reached.
        answers = await statuses([first, second], key.token, 3 * ACTIVE_JOBS)
        assert sorted(answers) == [202] * ACTIVE_JOBS + [429] * (2 * ACTIVE_JOBS), answers
        assert await statuses([second], key.token, 1) == [429]
    async with api_process(env, tmp_path / "c.log") as restarted:
        assert await statuses([restarted], key.token, 2) == [429, 429]
        other = await make_key(restarted, ["submit"])
        assert await statuses([restarted], other.token, 1) == [202]
