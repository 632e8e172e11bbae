"""What a worker image does before it serves: report its toolchain's version, and refuse to serve (exit
non-zero, saying why, consuming nothing) when its runtime file does not work."""

import re
import uuid
from pathlib import Path

import docker
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from common.kafka import ensure_topics
from master.docker_adapter import DockerAdapter
from schemas.codec import encode
from schemas.jobs import JobMessage
from schemas.topics import Topics
from tests.runtimes.cases import ALL_RUNTIMES, LANGUAGES, RUNTIMES, program
from tests.runtimes.harness import image_of, kafka_bootstrap, run_worker, write_runtime_file

VERSIONS = {
    "bash": r"^GNU bash, version 5\.2\.",
    "c": r"^gcc \(Debian [^)]+\) 12\.",
    "c-clang": r"^Debian clang version 14\.",
    "clojure": r"^Clojure 1\.11\.",
    "cpp": r"^g\+\+ \(Debian [^)]+\) 12\.",
    "cpp-clang": r"^Debian clang version 14\.",
    "csharp": r"^Mono JIT compiler version 6\.8\.",
    "d": r"^gdc \(Debian [^)]+\) 12\.",
    "elixir": r"^Elixir 1\.14\.",
    "erlang": r"^Erlang/OTP 25$",
    "executable": r"^ldd \(Debian GLIBC [^)]+\) 2\.36$",
    "fortran": r"^GNU Fortran \(Debian [^)]+\) 12\.",
    "go": r"^go version go1\.27\.",
    "haskell": r"^The Glorious Glasgow Haskell Compilation System, version 9\.0\.",
    "java": r"^openjdk 17\.",
    "javascript": r"^v26\.",
    "kotlin": r"kotlinc-jvm 2\.4\.",
    "lua": r"^Lua 5\.4\.",
    "nim": r"^Nim Compiler Version 1\.6\.",
    "ocaml": r"^4\.13\.",
    "pascal": r"^3\.2\.",
    "perl": r"^perl v5\.36\.",
    "php": r"^PHP 8\.2\.",
    "plaintext": r"^cat \(GNU coreutils\) 9\.",
    "prolog": r"^SWI-Prolog version 9\.",
    "pypy": r"^Python 3\.9\.",
    "python": r"^Python 3\.11\.",
    "r": r"^Rscript \(R\) version 4\.2\.",
    "racket": r"^Welcome to Racket v8\.7",
    "ruby": r"^ruby 3\.1\.",
    "rust": r"^rustc 1\.85\.",
    "sbcl": r"^SBCL 2\.2\.",
    "scala": r"^Scala compiler version 3\.3\.",
    "typescript": r"^Version 5\.9\.",
}
"""What each image's toolchain says it is (docs/runtimes.md's table): the toolchain a runtime.toml's image
recipe installs, not a line anyone typed into the API."""


def test_every_language_has_its_expected_version() -> None:
    assert set(VERSIONS) == set(ALL_RUNTIMES)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_masters_probe_finds_the_real_toolchain_in_the_image(language: str) -> None:
    """The line GET /api/v1/languages shows, as the master gets it (master/versions.py): the runtime's
    ``version`` command run in the worker image, in the image's own environment, without network."""
    client = docker.from_env()
    adapter = DockerAdapter(client, cluster=f"runtime-suite-{uuid.uuid4().hex[:8]}", threads=1)
    try:
        image_id = await adapter.image_id(image_of(language))
        assert image_id is not None, f"{image_of(language)} is not built"
        version = await adapter.run_version(image_id, ALL_RUNTIMES[language].version)
    finally:
        await adapter.close()
    assert re.search(VERSIONS[language], version), version


BREAKAGES = {
    # (language, what to replace in its runtime.toml, with what, what the worker's log must mention)
    "c-run-command": ("c", 'run = ["./main"]', 'run = ["./main-missing"]', "main-missing"),
    "java-main-class": ("java", '"-cp", ".", "Main",', '"-cp", ".", "Mian",', "Mian"),
    "rust-compile-flags": ("rust", '"--edition", "2021"', '"--edition", "2077"', "2077"),
}


# Core languages: a run of other languages (`make test-languages`) has not built their images.
BROKEN_HERE = {name: breakage for name, breakage in BREAKAGES.items() if breakage[0] in LANGUAGES}


@pytest.mark.parametrize("breakage", BROKEN_HERE.values(), ids=BROKEN_HERE.keys())
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
