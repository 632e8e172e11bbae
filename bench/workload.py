"""The programs the scenarios run, and the two ways jobs enter the cluster: ``POST`` over HTTP (as users
submit) and straight to Kafka (as a batch grader produces :class:`schemas.JobMessage`)."""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx

from bench.floor import Program
from schemas import JobMessage, TestCase

SUBMIT_TIMEOUT_S = 60.0
KEEPALIVE_S = 2.0


@dataclass(frozen=True)
class Workload:
    """One language's program with its tests (None: a single run whose stdout is checked by hand)."""

    language: str
    program: Program
    with_tests: bool

    def body(self) -> dict[str, Any]:
        """The ``POST /api/v1/submissions`` body."""
        body: dict[str, Any] = {"language": self.language, "source": self.program.source}
        if self.with_tests:
            body["tests"] = [{"stdin": i, "expected_output": o} for i, o in self.program.tests]
        return body

    def job(self) -> JobMessage:
        """A job message with a fresh id, as a batch grader would produce it."""
        tests = [TestCase(stdin=i, expected_output=o) for i, o in self.program.tests]
        return JobMessage(
            id=uuid4(),
            language=self.language,
            source=self.program.source,
            tests=tests if self.with_tests else None,
        )


SHORT_PYTHON = Workload("python", Program("print(sum(range(1000)))", [("", "499500\n")]), with_tests=False)
"""The throughput and latency scenarios' job: a whole Python start-up for one line of output."""

SHORT_C = Workload(
    "c",
    Program(
        "#include <stdio.h>\n\nint main(void) {\n    long s = 0;\n"
        '    for (int i = 0; i < 1000; ++i) s += i;\n    printf("%ld\\n", s);\n}\n',
        [("", "499500\n")],
    ),
    with_tests=False,
)
"""The isolation scenario's compiled job: a C compile (many processes, files and system calls) and a run."""

_TEST_INPUTS = [str(n * 1000) for n in range(1, 11)]
_TESTS = [(f"{n}\n", f"{sum(i * i % 7 for i in range(1, int(n) + 1))}\n") for n in _TEST_INPUTS]
CPP = Workload(
    "cpp",
    Program(
        "#include <iostream>\n\nint main() {\n    long long n, s = 0;\n    std::cin >> n;\n"
        "    for (long long i = 1; i <= n; ++i) s += i * i % 7;\n    std::cout << s << '\\n';\n}\n",
        _TESTS,
    ),
    with_tests=True,
)
JAVA = Workload(
    "java",
    Program(
        "import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n"
        "        long n = new Scanner(System.in).nextLong(), s = 0;\n"
        "        for (long i = 1; i <= n; ++i) s += i * i % 7;\n        System.out.println(s);\n    }\n}\n",
        _TESTS,
    ),
    with_tests=True,
)
COMPILED = (CPP, JAVA)


def jobs(workload: Workload, count: int) -> list[tuple[UUID, JobMessage]]:
    """``count`` fresh jobs of ``workload`` as (key, message) pairs for :class:`bench.kafka_io.Producer`."""
    made = [workload.job() for _ in range(count)]
    return [(job.id, job) for job in made]


def http_client(api_url: str, connections: int) -> httpx.AsyncClient:
    """An HTTP client of the API with ``connections`` kept-alive connections."""
    # Idle connections are dropped well before uvicorn closes them (5 s): reusing one the server is
    # closing fails the request with a ReadError.
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=KEEPALIVE_S
    )
    return httpx.AsyncClient(base_url=api_url, timeout=SUBMIT_TIMEOUT_S, limits=limits)


async def submit(client: httpx.AsyncClient, body: dict[str, Any]) -> UUID:
    """``POST`` one submission; its id."""
    reply = await client.post("/api/v1/submissions", json=body)
    if reply.status_code != 202:
        raise RuntimeError(f"POST /api/v1/submissions answered {reply.status_code}: {reply.text[:300]}")
    return UUID(reply.json()["id"])


@dataclass
class Submitted:
    """What a bulk submission produced: ids in the order they were accepted, and each POST's time."""

    ids: list[UUID]
    post_ms: list[float]


async def submit_all(
    client: httpx.AsyncClient, workload: Workload, count: int, clients: int, done: Submitted
) -> None:
    """``POST`` ``count`` submissions of ``workload`` from ``clients`` concurrent clients, recording each
    in ``done`` as it is accepted (so progress can be read meanwhile)."""
    body = workload.body()
    numbers: Iterator[int] = iter(range(count))

    async def one_client() -> None:
        for _ in numbers:  # shared: each number is taken by exactly one client
            started = time.perf_counter()
            submission = await submit(client, body)
            done.post_ms.append((time.perf_counter() - started) * 1000)
            done.ids.append(submission)

    async with asyncio.TaskGroup() as group:
        for index in range(min(clients, count)):
            group.create_task(one_client(), name=f"http client {index}")
