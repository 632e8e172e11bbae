"""The cluster contract on a real cluster: a limit an operator raised once, for the API and the master,
reaches the worker containers the master starts, so a job the API accepts under it runs instead of being
dead-lettered by a worker still on the default."""

import asyncio
from pathlib import Path

import httpx
import pytest

from common.contract import AdmissionLimits
from tests.e2e.sse import read_events
from tests.fixtures.cluster import cluster_of_its_own
from tests.fixtures.services import Services

pytestmark = pytest.mark.e2e

DEFAULT_SOURCE_BYTES = AdmissionLimits().max_source_bytes
RAISED_SOURCE_BYTES = 4 * DEFAULT_SOURCE_BYTES


async def test_a_raised_source_limit_reaches_the_workers_the_master_starts(
    services: Services, artifacts: Path
) -> None:
    settings = {
        "EXECUTIONER_LANGUAGES": '["python"]',
        "EXECUTIONER_MAX_SOURCE_BYTES": str(RAISED_SOURCE_BYTES),
    }
    # Twice the default: over it whatever the encoding, within the raised limit.
    source = "# " + "x" * (2 * DEFAULT_SOURCE_BYTES) + "\nprint(input()[::-1])\n"
    assert DEFAULT_SOURCE_BYTES < len(source.encode()) <= RAISED_SOURCE_BYTES
    async with (
        cluster_of_its_own(services, artifacts, "contract", settings) as cluster,
        httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client,
    ):
        reply = await client.post(
            "/api/v1/submissions", json={"language": "python", "source": source, "stdin": "hello\n"}
        )
        assert reply.status_code == 202, reply.text
        events = await asyncio.wait_for(read_events(client, reply.json()["events"]), 300)
    result = events[-1].data
    # A worker on the default limit dead-letters the job: the submission finishes internal_error.
    assert (result["status"], result["verdict"]) == ("finished", "accepted"), result
    assert result["stdout"] == "olleh\n"
