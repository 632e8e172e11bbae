"""What a worker image does before it serves: report its toolchain's version, and refuse to serve (exit
non-zero, saying why, consuming nothing) when its runtime file does not work."""

import re
import subprocess
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from common.kafka import ensure_topics
from common.runtimes import load_runtime
from schemas.codec import encode
from schemas.jobs import JobMessage
from schemas.topics import Topics
from tests.runtimes.cases import LANGUAGES, RUNTIMES, program
from tests.runtimes.harness import image_of, kafka_bootstrap, run_worker, write_runtime_file

VERSIONS = {
    "c": r"^gcc \(Debian [^)]+\) 12\.",
    "cpp": r"^g\+\+ \(Debian [^)]+\) 12\.",
    "java": r"^openjdk 17\.",
    "javascript": r"^v26\.",
    "go": r"^go version go1\.27\.",
    "rust": r"^rustc 1\.85\.",
    "python": r"^Python 3\.11\.",
}


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language in VERSIONS])
def test_version_command_names_the_real_toolchain(language: str) -> None:
    command = load_runtime(RUNTIMES / language / "runtime.toml").version
    # As the master runs it: the image's own environment, no network.
    done = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            command[0],
            image_of(language),
            *command[1:],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    first_line = (done.stdout + done.stderr).strip().splitlines()[0]
    assert re.match(VERSIONS[language], first_line), first_line


BREAKAGES = {
    # (language, what to replace in its runtime.toml, with what, what the worker's log must mention)
    "c-run-command": ("c", 'run = ["./main"]', 'run = ["./main-missing"]', "main-missing"),
    "java-main-class": ("java", '"-cp", ".", "Main",', '"-cp", ".", "Mian",', "Mian"),
    "rust-compile-flags": ("rust", '"--edition", "2021"', '"--edition", "2077"', "2077"),
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
async def test_a_worker_with_a_broken_runtime_refuses_to_serve(
    breakage: tuple[str, str, str, str], tmp_path: Path
) -> None:
    language, original, broken, mentioned = breakage
    text = (RUNTIMES / language / "runtime.toml").read_text()
    assert text.count(original) == 1
    runtime_file = write_runtime_file(tmp_path, text.replace(original, broken))

    topics = Topics(prefix=f"test-runtimes-broken-{uuid.uuid4().hex[:12]}.")
    await ensure_topics(kafka_bootstrap(), {topics.jobs(language): 1})
    job = JobMessage(id=uuid.uuid4(), language=language, source=program(language, "hello"))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap())
    await producer.start()
    try:
        await producer.send_and_wait(topics.jobs(language), key=str(job.id).encode(), value=encode(job))
    finally:
        await producer.stop()

    exit = await run_worker(
        image_of(language), topics, extra_args=["-v", f"{runtime_file}:/opt/executioner/runtime.toml:ro"]
    )

    assert exit.returncode != 0, exit.logs
    assert "self-test failed" in exit.logs, exit.logs
    assert mentioned in exit.logs, exit.logs
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), group_id=topics.worker_group(language))
    await consumer.start()
    try:
        assert await consumer.committed(TopicPartition(topics.jobs(language), 0)) is None  # consumed nothing
        for topic in {topics.results, topics.dead_letter} & await consumer.topics():  # published nothing
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            assert set((await consumer.end_offsets(partitions)).values()) <= {0}
    finally:
        await consumer.stop()
