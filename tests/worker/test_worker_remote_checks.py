"""A checker in a language the job's workers lack is run by the workers of its own language, over the
real Kafka (schemas/checks.py): two worker processes' services in this process, one asking (python) and
one answering for a language of its own, ``pyjudge`` (the python runtime under another id, so the
asking worker cannot run it itself). tests/e2e/test_checkers.py does it with real other languages."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from common.kafka import ensure_topics
from schemas.results import ResultEvent
from schemas.topics import Topics
from schemas.verdicts import Verdict
from tests.worker.support import PYTHON_RUNTIME, Results
from worker.service import serve
from worker.settings import WorkerSettings

PARTITIONS = 2
JUDGE = "pyjudge"
# Exit codes as testlib's: 0 accepted, 1 wrong answer; stderr is the message.
SORTED_CHECKER = """
import sys
given, output, answer = (open(name).read().split() for name in sys.argv[1:4])
if sorted(output) != sorted(answer):
    sys.stderr.write(f"{len(output)} numbers, not a permutation of {len(answer)}")
    sys.exit(1)
sys.stderr.write(f"a permutation of {len(answer)}")
"""
TESTS = [{"stdin": "3\n", "expected_output": "1 2 3\n"}, {"stdin": "4\n", "expected_output": "1 2 3 4\n"}]


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    topics = Topics(prefix=f"test-checks-{uuid.uuid4().hex[:12]}.")
    await ensure_topics(kafka_bootstrap, {topics.jobs("python"): PARTITIONS, topics.results: 1})
    return topics


def settings(kafka_bootstrap: str, topics: Topics, scratch: Path, **fields: Any) -> WorkerSettings:
    scratch.mkdir()
    return WorkerSettings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topics.prefix,
        jobs_partitions=PARTITIONS,
        runtime_file=PYTHON_RUNTIME,
        scratch_dir=scratch,
        pool_size=1,
        **fields,
    )


@pytest.fixture
async def cluster(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> AsyncIterator[None]:
    """The asking python worker (a short check timeout) and the answering ``pyjudge`` worker."""
    asker = settings(kafka_bootstrap, topics, tmp_path / "asker", worker_id="asker", check_timeout_s=8)
    judge = settings(kafka_bootstrap, topics, tmp_path / "judge", worker_id="judge", language=JUDGE)
    stop = asyncio.Event()
    workers = [asyncio.create_task(serve(asker, stop)), asyncio.create_task(serve(judge, stop))]
    yield
    stop.set()
    assert await asyncio.gather(*workers) == [0, 0]


async def submit(bootstrap: str, topics: Topics, source: str, checker_language: str) -> str:
    job_id = str(uuid.uuid4())
    job = {
        "v": 1,
        "id": job_id,
        "language": "python",
        "source": source,
        "tests": TESTS,
        "checker": {"language": checker_language, "source": SORTED_CHECKER},
    }
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.jobs("python"), orjson.dumps(job), key=job_id.encode())
    finally:
        await producer.stop()
    return job_id


async def result_of(results: Results, job_id: str) -> ResultEvent:
    while not isinstance(event := await results.next(job_id), ResultEvent):
        pass
    return event


@pytest.mark.usefixtures("cluster")
async def test_the_checkers_language_workers_judge_each_test(
    kafka_bootstrap: str, topics: Topics, results: Results
) -> None:
    backwards = await submit(kafka_bootstrap, topics, "print(*range(int(input()), 0, -1))", JUDGE)
    repeated = await submit(kafka_bootstrap, topics, "print(*[1] * int(input()))", JUDGE)
    right, wrong = await result_of(results, backwards), await result_of(results, repeated)
    assert right.outcome.verdict is Verdict.ACCEPTED, right.outcome
    assert [t.checker_message for t in right.outcome.tests] == ["a permutation of 3", "a permutation of 4"]
    assert [t.stdout for t in right.outcome.tests] == ["3 2 1\n", "4 3 2 1\n"]
    assert right.outcome.worker == "asker"  # the program ran on the python worker, only the check elsewhere
    assert wrong.outcome.verdict is Verdict.WRONG_ANSWER, wrong.outcome
    assert wrong.outcome.tests[0].checker_message == "3 numbers, not a permutation of 3"


@pytest.mark.usefixtures("cluster")
async def test_a_checker_language_no_worker_serves_is_an_internal_error(
    kafka_bootstrap: str, topics: Topics, results: Results
) -> None:
    job_id = await submit(kafka_bootstrap, topics, "print(*range(1, int(input()) + 1))", "nojudge")
    done = await result_of(results, job_id)
    assert done.outcome.verdict is Verdict.INTERNAL_ERROR, done.outcome
    assert done.outcome.message == "no nojudge worker answered the check of test 0 in 8 s"
    assert done.outcome.tests == []
