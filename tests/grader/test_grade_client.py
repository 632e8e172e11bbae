"""The grading client end to end, on the host cluster: ``executioner grade`` as a process, both ways, and
the ``grader`` Python API."""

import asyncio
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from grader import GradeError, GradeOptions, JobState, Progress, grade
from tests.fixtures.gate import Gate
from tests.grader.hostcluster import REPO, WORKER_MAX_SOURCE_BYTES, HostCluster, consumer_at_end


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def executioner(*args: str, env: dict[str, str]) -> Run:
    """``executioner ARGS`` (as ``python -m cli``) with ``env``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args, cwd=REPO, env=env, stdout=-1, stderr=-1
    )
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


def batch() -> tuple[list[dict[str, Any]], list[str]]:
    """Jobs of every common verdict (some with their own id, some without) and the verdict of each."""
    jobs: list[dict[str, Any]] = []
    verdicts: list[str] = []
    for i in range(12):
        job: dict[str, Any] = {"language": "python", "source": "print(input()[::-1])", "stdin": f"{i}ab"}
        if i % 2:
            job["id"] = str(uuid.uuid4())
        jobs.append(job)
        verdicts.append("accepted")
    for i in range(6):
        tests = [
            {"stdin": f"{i}\n", "expected_output": f"{i * i}\n"},
            {"stdin": "3\n", "expected_output": "9\n"},
        ]
        jobs.append({"language": "python", "source": "x = int(input())\nprint(x + x)", "tests": tests})
        verdicts.append("wrong_answer")
    for _ in range(4):
        jobs.append({"v": 1, "language": "python", "source": "raise ValueError('no')"})
        verdicts.append("runtime_error")
    jobs.append({"language": "python", "source": "while True: pass", "limits": {"time_ms": 100}})
    verdicts.append("time_limit_exceeded")
    return jobs, verdicts


def write_jobs(path: Path, jobs: list[dict[str, Any]]) -> None:
    # A blank line in the middle: skipped, and the line numbers still are the file's.
    lines = [json.dumps(job) for job in jobs]
    path.write_text("\n".join([*lines[:3], "", *lines[3:]]) + "\n")


def file_lines(count: int) -> list[int]:
    """The line numbers ``write_jobs`` puts ``count`` jobs on."""
    return [n + 1 if n < 3 else n + 2 for n in range(count)]


def read_results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_finished(record: dict[str, Any]) -> None:
    assert record["state"] == "finished"
    assert record["latency_ms"] > 0
    assert record["submitted_at"] < record["finished_at"]
    assert record["error"] is None
    UUID(record["id"])


async def test_cli_via_kafka_writes_every_result_in_order_and_reports_dead_letters(
    cluster_on_host: HostCluster, tmp_path: Path
) -> None:
    jobs, verdicts = batch()
    refused_id = str(uuid.uuid4())
    jobs.append({"id": refused_id, "language": "python", "source": "#" * (WORKER_MAX_SOURCE_BYTES + 1)})
    write_jobs(tmp_path / "jobs.jsonl", jobs)
    out = tmp_path / "results.jsonl"

    done = await executioner(
        "grade", str(tmp_path / "jobs.jsonl"), "--via", "kafka", "--out", str(out), "--timeout", "120",
        env=cluster_on_host.cli_environment(),
    )  # fmt: skip

    assert done.code == 1, done.err  # one job got no result
    records = read_results(out)
    assert [r["line"] for r in records] == file_lines(len(jobs))
    for job, record in zip(jobs, records, strict=True):
        if "id" in job:
            assert record["id"] == job["id"]  # over Kafka the job's own id is the submission id
    for record, verdict in zip(records[:-1], verdicts, strict=True):
        assert_finished(record)
        assert record["verdict"] == verdict
        assert record["result"]["verdict"] == verdict  # the outcome of the result message
    assert records[0]["result"]["run"]["stdout"] == "ba0\n"
    refused = records[-1]
    assert (refused["state"], refused["verdict"], refused["result"]) == ("rejected", None, None)
    assert refused["error"]["code"] == "dead_letter"
    assert "larger than" in refused["error"]["message"]

    rows = dict(line.split() for line in done.out.splitlines()[1:5])
    assert rows == {"accepted": "12", "wrong_answer": "6", "runtime_error": "4", "time_limit_exceeded": "1"}
    assert "no result: rejected" in done.out
    assert f"23/{len(jobs)} jobs with a result" in done.out
    assert "jobs/s; completion time p50" in done.out


async def test_cli_via_http_follows_each_submission_and_reports_refusals(
    cluster_on_host: HostCluster, tmp_path: Path
) -> None:
    jobs, verdicts = batch()
    jobs.append({"language": "cobol", "source": "DISPLAY 'HI'."})
    write_jobs(tmp_path / "jobs.jsonl", jobs)
    out = tmp_path / "results.jsonl"

    done = await executioner(
        "grade", str(tmp_path / "jobs.jsonl"), "--via", "http", "--out", str(out), "--concurrency", "4",
        env=cluster_on_host.cli_environment(),
    )  # fmt: skip

    assert done.code == 1, done.err
    records = read_results(out)
    assert [r["line"] for r in records] == file_lines(len(jobs))
    for record, verdict in zip(records[:-1], verdicts, strict=True):
        assert_finished(record)
        assert (record["verdict"], record["result"]["verdict"]) == (verdict, verdict)
        assert record["result"]["id"] == record["id"]  # the API's view of that submission
    assert records[0]["result"]["stdout"] == "ba0\n"
    refused = records[-1]
    assert (refused["state"], refused["id"]) == ("rejected", None)
    assert refused["error"]["status"] == 422
    assert (refused["error"]["code"], refused["error"]["field"]) == ("unknown_language", "language")
    async with httpx.AsyncClient(base_url=cluster_on_host.api_url) as client:
        stored = (await client.get(f"/api/v1/submissions/{records[5]['id']}")).json()
    assert (stored["status"], stored["verdict"], stored["origin"]) == ("finished", "accepted", "http")

    rows = dict(line.split() for line in done.out.splitlines()[1:5])
    assert rows == {"accepted": "12", "wrong_answer": "6", "runtime_error": "4", "time_limit_exceeded": "1"}
    assert f"23/{len(jobs)} jobs with a result" in done.out


async def test_python_api_via_kafka_reports_progress_and_a_complete_summary(
    cluster_on_host: HostCluster,
) -> None:
    jobs = [{"language": "python", "source": f"print({i} * 2)"} for i in range(30)]
    seen: list[Progress] = []
    options = GradeOptions(
        via="kafka",
        kafka_bootstrap=cluster_on_host.kafka_bootstrap,
        topic_prefix=cluster_on_host.topic_prefix,
        concurrency=5,  # at most 5 jobs in flight
        timeout_s=120,
    )

    report = await grade(jobs, options, on_progress=seen.append)

    assert report.summary.complete
    assert report.summary.verdicts == {"accepted": 30}
    assert report.summary.missing == {}
    assert [r.line for r in report.results] == list(range(1, 31))
    assert [r.result["run"]["stdout"] for r in report.results if r.result] == [
        f"{i * 2}\n" for i in range(30)
    ]
    assert report.summary.jobs_per_s > 0
    assert report.summary.p50_ms is not None and report.summary.p99_ms is not None
    assert 0 < report.summary.p50_ms <= report.summary.p99_ms <= report.summary.elapsed_s * 1000
    assert max(p.sent - p.settled for p in seen) <= 5
    assert (seen[-1].settled, seen[-1].finished, seen[-1].total) == (30, 30, 30)


async def wait_until_running(consumer: AIOKafkaConsumer, marker: str) -> None:
    """Until a job whose source holds ``marker`` (read on ``jobs.python``) is reported running."""
    ours: set[str] = set()
    async with asyncio.timeout(60):
        while True:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    message = json.loads(record.value)
                    if record.topic.endswith("jobs.python") and marker in message["source"]:
                        ours.add(message["id"])
                    elif message["id"] in ours and message["event"] == "status":
                        return


async def test_http_streams_resume_when_the_api_restarts(
    cluster_on_host: HostCluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cluster = cluster_on_host
    gate = Gate(tmp_path_factory.mktemp("gate"))  # every job waits at it until the API is back
    marker = uuid.uuid4().hex
    held = {"wall_ms": 30_000}  # the longest a job may wait at the gate, for an API slow to restart
    jobs = [
        {"language": "python", "source": f"# {marker}\n" + gate.program(f"print({i})"), "limits": held}
        for i in range(4)
    ]
    topics = [cluster.topic("jobs.python"), cluster.topic("results")]
    consumer = await consumer_at_end(cluster.kafka_bootstrap, topics)
    options = GradeOptions(via="http", api_url=cluster.api_url, concurrency=4, timeout_s=120)
    try:
        grading = asyncio.create_task(grade(jobs, options))
        await wait_until_running(consumer, marker)  # posted, relayed, streams open
    finally:
        await consumer.stop()
    try:
        await gate.reached()  # no job can finish before the API has gone
        await cluster.stop_api()  # every open stream ends without a result
        await cluster.start_api()
    finally:
        gate.open()

    report = await grading

    assert report.summary.verdicts == {"accepted": 4}, [r.error for r in report.results]
    assert [r.result["stdout"] for r in report.results if r.result] == ["0\n", "1\n", "2\n", "3\n"]


async def test_jobs_without_a_result_in_time_are_reported_as_timeouts(
    cluster_on_host: HostCluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    gate = Gate(tmp_path_factory.mktemp("gate"))  # opened only after the grading gave up
    jobs: list[dict[str, Any]] = [
        {"language": "python", "source": "print('quick')"},
        {"language": "python", "source": gate.program("print('late')"), "limits": {"wall_ms": 8000}},
    ]
    options = GradeOptions(
        via="http", api_url=cluster_on_host.api_url, timeout_s=3, concurrency=2
    )  # the quick one finishes, the held one cannot

    try:
        report = await grade(jobs, options)
    finally:
        gate.open()

    quick, slow = report.results
    assert (quick.state, quick.verdict) == (JobState.FINISHED, "accepted")
    assert slow.state is JobState.TIMEOUT
    assert slow.id is not None  # it was accepted, just not finished
    assert slow.error is not None and slow.error["code"] == "timeout"
    assert report.summary.missing == {"timeout": 1}
    assert not report.summary.complete


async def test_an_unusable_cluster_is_one_error_not_a_result_per_job(
    cluster_on_host: HostCluster, tmp_path: Path
) -> None:
    (tmp_path / "jobs.jsonl").write_text(json.dumps({"language": "cobol", "source": "x"}) + "\n")
    out = tmp_path / "results.jsonl"

    no_topic = await executioner(
        "grade", str(tmp_path / "jobs.jsonl"), "--via", "kafka", "--out", str(out),
        env=cluster_on_host.cli_environment(),
    )  # fmt: skip
    assert no_topic.code == 3
    assert f"no topic {cluster_on_host.topic_prefix}jobs.cobol" in no_topic.err

    env = {**cluster_on_host.cli_environment(), "EXECUTIONER_API_URL": "http://127.0.0.1:9"}
    no_api = await executioner(
        "grade", str(tmp_path / "jobs.jsonl"), "--via", "http", "--out", str(out), env=env
    )
    assert no_api.code == 3
    assert "cannot reach the API at http://127.0.0.1:9" in no_api.err
    assert not out.exists()


async def test_grade_error_when_kafka_is_not_there() -> None:
    options = GradeOptions(via="kafka", kafka_bootstrap="127.0.0.1:9", timeout_s=30)
    with pytest.raises(GradeError, match=r"cannot use Kafka at 127\.0\.0\.1:9"):
        await grade([{"language": "python", "source": "print(1)"}], options)
