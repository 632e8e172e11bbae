"""Stored problems through the whole cluster (API, Kafka, master, worker containers in their sandboxes,
MariaDB): many large tests judged with only their hashes on Kafka, fetched once per worker and then
served from its cache, a tampered cached file detected and fetched again; hidden tests' data in no
response, SSE event or result message; a JavaScript checker judging Python submissions on hidden tests by
hash; stubs in four languages; a rejudge of 50 submissions after a test changed, through
``executioner rejudge``."""

import asyncio
import hashlib
import io
import os
import secrets
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docker
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from schemas import Topics
from tests.e2e.sse import Event, read_events
from tests.fixtures.cluster import Cluster, cluster_of_its_own
from tests.fixtures.services import Services
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Bearer test-admin-token"}  # tests/fixtures/cluster.py gives every cluster it
PROBLEMS = "/api/v1/problems"
METRICS_PORT = 9400
LARGE_TESTS = int(os.environ.get("EXECUTIONER_TEST_PROBLEM_TESTS", "200"))
LARGE_TEST_BYTES = 1024 * 1024
SHA_OF_INPUT = "import sys, hashlib\nprint(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"
LANGUAGES = ["python", "cpp", "java", "javascript"]
REPO = Path(__file__).resolve().parents[2]
GENEROUS = {"time_ms": 10_000, "wall_ms": 30_000}


@pytest.fixture(scope="module")
async def cluster(services: Services, artifacts: Path) -> AsyncIterator[Cluster]:
    """A cluster of its own whose workers have room for the large problem in their cache, and publish
    their metrics (the fetch counter)."""
    settings = {
        "EXECUTIONER_LANGUAGES": orjson.dumps(LANGUAGES).decode(),
        "EXECUTIONER_WORKER_TMP_MB": "640",
        "EXECUTIONER_WORKER_TEST_CACHE_MB": "400",
        "EXECUTIONER_WORKER_METRICS_PORT": str(METRICS_PORT),
    }
    async with cluster_of_its_own(services, artifacts, "problems", settings) as running:
        yield running


@pytest.fixture
async def admin(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=cluster.api_url, headers=ADMIN, timeout=600) as http:
        yield http


def new_slug() -> str:
    return f"p-{secrets.token_hex(4)}"


async def create(admin: httpx.AsyncClient, slug: str, tests: list[dict[str, Any]], **fields: Any) -> None:
    # Generous limits: these tests are about the data's path, on a machine whose load stretches wall time.
    body = {"slug": slug, "title": slug, "tests": tests, "limits": GENEROUS, **fields}
    reply = await admin.post(PROBLEMS, json=body)
    assert reply.status_code == 201, reply.text


async def judge(client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
    """Submit, follow the stream to the result; the stored submission and every SSE event."""
    reply = await client.post("/api/v1/submissions", json=body)
    assert reply.status_code == 202, reply.text
    events = await asyncio.wait_for(read_events(client, reply.json()["events"]), 600)
    finished: dict[str, Any] = (await client.get(f"/api/v1/submissions/{reply.json()['id']}")).json()
    assert finished["status"] == "finished", finished
    return finished, events


def python_workers(cluster: Cluster) -> list[Any]:
    filters = {"label": [f"org.executioner.cluster={cluster.name}", "org.executioner.language=python"]}
    return list(docker.from_env().containers.list(ignore_removed=True, filters=filters))


async def one_python_worker_serving(cluster: Cluster) -> bool | None:
    """True once the cluster's one python worker (the cache is per worker: it sees every job) serves
    its metrics."""
    workers = python_workers(cluster)
    if len(workers) != 1 or not workers[0].ports.get(f"{METRICS_PORT}/tcp"):
        return None
    try:
        await fetches(cluster)
    except httpx.HTTPError:
        return None
    return True


async def fetches(cluster: Cluster) -> tuple[float, float]:
    """The python workers' test files fetched and refetched so far (their Prometheus counters)."""
    fetched = refetched = 0.0
    async with httpx.AsyncClient(timeout=10) as http:
        for container in python_workers(cluster):
            port = container.ports[f"{METRICS_PORT}/tcp"][0]["HostPort"]
            for line in (await http.get(f"http://127.0.0.1:{port}/metrics")).text.splitlines():
                if line.startswith("executioner_worker_test_fetches_total "):
                    fetched += float(line.split()[1])
                if line.startswith("executioner_worker_test_refetches_total "):
                    refetched += float(line.split()[1])
    return fetched, refetched


async def kafka_values(cluster: Cluster, topic: str, key: str) -> list[bytes]:
    """Every message of ``topic`` keyed ``key``, read from the beginning."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=cluster.services.kafka_bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        ends = await consumer.end_offsets(list(consumer.assignment()))
        found = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                found += [r.value for r in records if r.key == key.encode() and r.value is not None]
        return found
    finally:
        await consumer.stop()


def test_zip(count: int) -> tuple[bytes, list[bytes]]:
    """An archive of ``count`` tests of 1 MiB (distinct bytes each) whose answer is the input's SHA-256."""
    buffer = io.BytesIO()
    inputs = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number in range(1, count + 1):
            data = hashlib.sha256(str(number).encode()).digest() * (LARGE_TEST_BYTES // 32)
            inputs.append(data)
            archive.writestr(f"{number:03}.in", data)
            archive.writestr(f"{number:03}.out", hashlib.sha256(data).hexdigest() + "\n")
        archive.writestr("problem.json", orjson.dumps({"tests": {"001": {"sample": False, "points": 1}}}))
    return buffer.getvalue(), inputs


test_zip.__test__ = False  # type: ignore[attr-defined]


@pytest.mark.timeout(1800)  # 3 x 200 tests of 1 MiB on 2 shared cores
async def test_large_tests_by_hash_cached_then_a_tampered_file_refetched(
    cluster: Cluster, admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await eventually(lambda: one_python_worker_serving(cluster), within_s=180)
    slug = new_slug()
    await create(admin, slug, [{"input": "", "expected_output": "x"}])
    archive, inputs = test_zip(LARGE_TESTS)
    uploaded = await admin.put(
        f"{PROBLEMS}/{slug}/tests", content=archive, headers={"content-type": "application/zip"}
    )
    assert uploaded.status_code == 200, uploaded.text
    assert (uploaded.json()["version"], uploaded.json()["tests"]) == (2, LARGE_TESTS)

    before, _ = await fetches(cluster)
    first, _ = await judge(client, {"problem": slug, "language": "python", "source": SHA_OF_INPUT})
    assert first["verdict"] == "accepted", first["message"]
    assert len(first["tests"]) == LARGE_TESTS
    (job,) = await kafka_values(cluster, Topics(cluster.topic_prefix).jobs("python"), first["id"])
    assert len(job) < 400 * LARGE_TESTS  # hashes and sizes only
    assert inputs[0][:64] not in job
    after_first, _ = await fetches(cluster)
    assert after_first - before == 2 * LARGE_TESTS  # every input and answer, once

    second, _ = await judge(client, {"problem": slug, "language": "python", "source": SHA_OF_INPUT})
    assert second["verdict"] == "accepted"
    assert (await fetches(cluster))[0] == after_first  # all from the cache

    (worker,) = python_workers(cluster)
    sha = hashlib.sha256(inputs[0]).hexdigest()
    path = f"/tmp/executioner-tests/{sha[:2]}/{sha}"
    tamper = f"f = open({path!r}, 'r+b'); f.write(b'XX'); f.close()"
    done = worker.exec_run(["/opt/executioner/venv/bin/python", "-c", tamper], user="10001")
    assert done.exit_code == 0, done.output
    third, _ = await judge(client, {"problem": slug, "language": "python", "source": SHA_OF_INPUT})
    assert third["verdict"] == "accepted"  # it ran on the refetched input, not the tampered one
    assert await fetches(cluster) == (after_first + 1, 1)


async def test_hidden_data_is_in_no_response_event_or_result_message(
    cluster: Cluster, admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    slug = new_slug()
    secret_in, secret_out = f"hidden-{secrets.token_hex(8)}", f"answer-{secrets.token_hex(8)}"
    tests = [
        {"input": "sample-in\n", "expected_output": "sample-in\n", "sample": True},
        {"input": f"{secret_in}\n", "expected_output": f"{secret_out}\n", "points": 5},
    ]
    await create(admin, slug, tests)
    echo = "import sys\ntext = sys.stdin.read()\nprint(text, end='')\nprint(text, file=sys.stderr)"
    finished, events = await judge(client, {"problem": slug, "language": "python", "source": echo})
    assert finished["verdict"] == "wrong_answer"
    sample, hidden = finished["tests"]
    assert (sample["stdout"], sample["stderr"]) == ("sample-in\n", "sample-in\n\n")  # samples in full
    assert (hidden["hidden"], hidden["verdict"], hidden["stdout"]) == (True, "wrong_answer", "")
    assert (finished["score"], finished["max_score"]) == (0, 5)

    shown = orjson.dumps(finished) + orjson.dumps([e.data for e in events])
    results = await kafka_values(cluster, Topics(cluster.topic_prefix).results, finished["id"])
    assert len(results) >= 4  # running, two tests, result
    for text in (shown, *results, orjson.dumps((await client.get(f"{PROBLEMS}/{slug}")).json())):
        assert secret_in.encode() not in text and secret_out.encode() not in text


SUM_CHECKER = {  # accepts any two numbers whose sum is the answer's one number
    "language": "javascript",
    "source": """
const fs = require("fs");
const [output, answer] = process.argv.slice(3, 5).map((name) => fs.readFileSync(name, "utf8"));
const got = output.trim().split(/\\s+/).map(Number);
const ok = got.length === 2 && got[0] + got[1] === Number(answer.trim());
process.stderr.write(ok ? "node: the sum is right" : `node: ${got.join("+")} is not ${answer.trim()}`);
process.exit(ok ? 0 : 1);
""",
}


async def test_a_checker_in_another_language_judges_hidden_tests_by_hash(
    cluster: Cluster, admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    slug = new_slug()
    secret = secrets.randbelow(10**9) + 10**9
    tests = [
        {"input": "10\n", "expected_output": "10\n", "sample": True},
        {"input": f"{secret}\n", "expected_output": f"{secret}\n", "points": 5},
    ]
    await create(admin, slug, tests, checker=SUM_CHECKER)
    halves = "n = int(input())\nprint(n // 2, n - n // 2)"
    right, _ = await judge(client, {"problem": slug, "language": "python", "source": halves})
    wrong, events = await judge(
        client, {"problem": slug, "language": "python", "source": "print(input(), 1)"}
    )
    assert right["verdict"] == "accepted", right
    assert (right["score"], right["tests"][0]["checker_message"]) == (5, "node: the sum is right")
    assert wrong["verdict"] == "wrong_answer", wrong
    assert wrong["tests"][0]["checker_message"] == "node: 10+1 is not 10"
    hidden = wrong["tests"][1]
    assert (hidden["hidden"], hidden["verdict"], hidden["checker_message"]) == (True, "wrong_answer", None)
    shown = orjson.dumps(wrong) + orjson.dumps([e.data for e in events])
    results = await kafka_values(cluster, Topics(cluster.topic_prefix).results, wrong["id"])
    assert str(secret).encode() not in shown and all(str(secret).encode() not in r for r in results)


STUBS = {
    "python": (
        "import sys\n{{user_code}}\nprint(add(*map(int, sys.stdin.read().split())))\n",
        "def add(a, b):\n    return a + b\n",
    ),
    "cpp": (
        "#include <iostream>\n{{user_code}}\n"
        'int main() { long a, b; std::cin >> a >> b; std::cout << add(a, b) << "\\n"; }\n',
        "long add(long a, long b) { return a + b; }\n",
    ),
    "java": (
        "import java.util.Scanner;\n{{user_code}}\npublic class Main { public static void main(String[] x) {"
        " Scanner in = new Scanner(System.in);"
        " System.out.println(Solution.add(in.nextLong(), in.nextLong())); } }\n",
        "class Solution { static long add(long a, long b) { return a + b; } }\n",
    ),
    "javascript": (
        "{{user_code}}\n"
        "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
        "console.log(add(a, b));\n",
        "function add(a, b) { return a + b; }\n",
    ),
}


@pytest.mark.timeout(900)
async def test_stubs_in_four_languages(
    cluster: Cluster, admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    slug = new_slug()
    stubs = {language: {"template": "", "driver": driver} for language, (driver, _) in STUBS.items()}
    tests: list[dict[str, Any]] = [
        {"input": "1 2\n", "expected_output": "3\n", "sample": True},
        {"input": "-7 1000\n", "expected_output": "993\n"},
    ]
    await create(admin, slug, tests, stubs=stubs)
    runs = [
        judge(client, {"problem": slug, "language": language, "source": code})
        for language, (_, code) in STUBS.items()
    ]
    for language, (finished, _) in zip(STUBS, await asyncio.gather(*runs), strict=True):
        assert finished["verdict"] == "accepted", (language, finished)
        assert finished["submitted"]["source"] == STUBS[language][1]  # the user's code, not the driver
    wrong, _ = await judge(
        client, {"problem": slug, "language": "python", "source": "def add(a, b):\n    return a - b\n"}
    )
    assert wrong["verdict"] == "wrong_answer"


@pytest.mark.timeout(900)
async def test_rejudge_of_50_submissions_after_a_test_changed(
    cluster: Cluster, admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    slug = new_slug()
    double = [{"input": "21\n", "expected_output": "42\n"}]
    await create(admin, slug, double)
    sources = ["print(int(input()) * 2)", "print(int(input()) + 21)"] * 25
    first = await asyncio.gather(
        *(judge(client, {"problem": slug, "language": "python", "source": s}) for s in sources)
    )
    assert {finished["verdict"] for finished, _ in first} == {"accepted"}

    tests = [{"input": "5\n", "expected_output": "10\n"}]
    edited = await admin.put(f"{PROBLEMS}/{slug}", json={"title": slug, "tests": tests, "limits": GENEROUS})
    assert edited.json()["version"] == 2
    env = {
        **os.environ,
        "EXECUTIONER_API_URL": cluster.api_url,
        "EXECUTIONER_ADMIN_TOKEN": "test-admin-token",
    }
    cli = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "rejudge", slug],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert cli.returncode == 0, cli.stderr
    assert f"50 submissions of {slug} against version 2" in cli.stdout

    again = [(await client.get(f"/api/v1/submissions/{f['id']}")).json() for f, _ in first]
    assert all(s["status"] == "finished" and s["problem"]["version"] == 2 for s in again)
    verdicts = [s["verdict"] for s in again]
    assert verdicts == ["accepted", "wrong_answer"] * 25  # 5 * 2 is 10, 5 + 21 is not
