"""The native ``wait=true``, and the Python client (``executioner.Client`` / ``AsyncClient``) against a
whole cluster: submit, the stream resumed from a ``Last-Event-ID``, the result and ``run`` as typed
models."""

import asyncio

import httpx
import pytest

from executioner import AsyncClient, Client, ExecutionerError, StreamEvent, Submission
from schemas import Status, Verdict
from tests.fixtures.cluster import Cluster

pytestmark = pytest.mark.e2e

ECHO_DOUBLED = "n = int(input())\nprint(n * 2)\n"
TESTS = [{"stdin": f"{n}\n", "expected_output": f"{n * 2}\n"} for n in range(3)]


async def test_wait_answers_the_finished_submission(cluster: Cluster, client: httpx.AsyncClient) -> None:
    body = {"language": "python", "source": "print(input()[::-1])", "stdin": "hello\n"}
    reply = await client.post("/api/v1/submissions", json=body, params={"wait": "true"}, timeout=120)
    assert reply.status_code == 200, reply.text
    finished = reply.json()
    assert (finished["status"], finished["verdict"]) == ("finished", "accepted")
    assert finished["stdout"] == "olleh\n"
    assert finished["events"].endswith(f"/api/v1/submissions/{finished['id']}/events")
    stored = (await client.get(f"/api/v1/submissions/{finished['id']}")).json()
    assert {k: stored[k] for k in ("verdict", "stdout", "finished_at")} == {
        k: finished[k] for k in ("verdict", "stdout", "finished_at")
    }


async def collect(
    client: AsyncClient, submission_id: str, last_event_id: int | None = None
) -> list[StreamEvent]:
    return [e async for e in client.stream(submission_id, last_event_id=last_event_id)]


async def test_submit_stream_and_result_are_typed(cluster: Cluster) -> None:
    async with AsyncClient(cluster.api_url) as client:
        accepted = await client.submit("python", "print(input()[::-1])", stdin="hello\n")
        assert accepted.status is Status.QUEUED
        events = await asyncio.wait_for(collect(client, accepted.id), 120)
        streamed = events[-1].submission
        assert streamed is not None and streamed.finished
        assert (streamed.id, streamed.verdict, streamed.stdout) == (accepted.id, Verdict.ACCEPTED, "olleh\n")

        stored = await client.result(accepted.id)
    assert stored.verdict is Verdict.ACCEPTED and stored.stdout == "olleh\n"
    assert stored.submitted is not None and stored.submitted["stdin"] == "hello\n"


async def test_stream_resumes_after_the_last_event_id(cluster: Cluster) -> None:
    async with AsyncClient(cluster.api_url) as client:
        accepted = await client.submit("python", ECHO_DOUBLED, tests=TESTS)
        first: list[StreamEvent] = []
        async for event in client.stream(accepted.id):
            first.append(event)
            if event.event == "test":  # drop the connection mid-run, as a client that went away
                break
        resumed = await asyncio.wait_for(collect(client, accepted.id, last_event_id=first[-1].id), 120)
        after_result = await collect(client, accepted.id, last_event_id=resumed[-1].id)

    ids = [e.id for e in first + resumed]
    assert ids == sorted(set(ids)), f"resuming repeated or reordered events: {ids}"
    tests = [e.data["index"] for e in first + resumed if e.event == "test"]
    assert tests == [0, 1, 2]
    result = resumed[-1].submission
    assert result is not None and result.verdict is Verdict.ACCEPTED
    assert result.tests is not None and [t.verdict for t in result.tests] == [Verdict.ACCEPTED] * 3
    assert after_result == [], "a stream resumed after its result has nothing more"


async def test_run_waits_for_the_result(cluster: Cluster) -> None:
    failing = [*TESTS, {"stdin": "5\n", "expected_output": "11\n"}]

    def run() -> Submission:  # the synchronous client, off the test's event loop
        with Client(cluster.api_url) as client:
            return client.run("python", ECHO_DOUBLED, tests=failing)

    result = await asyncio.wait_for(asyncio.to_thread(run), 120)
    assert result.finished and result.verdict is Verdict.WRONG_ANSWER
    assert result.tests is not None
    assert [t.verdict for t in result.tests] == [Verdict.ACCEPTED] * 3 + [Verdict.WRONG_ANSWER]


async def test_a_refused_submission_names_its_field(cluster: Cluster) -> None:
    async with AsyncClient(cluster.api_url) as client:
        with pytest.raises(ExecutionerError) as refused:
            await client.submit("no-such-language", "print(1)")
    assert refused.value.status // 100 == 4 and refused.value.field == "language"
