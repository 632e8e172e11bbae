"""The hostile corpus through one real Python worker container, configured as the master configures one:
every attack gets a verdict in bounded time (never ``accepted``, never ``internal_error``), nothing
leaks, no process outlives its job, and the same container then runs normal jobs as if nothing happened."""

import functools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from schemas.results import ResultEvent, RunReport
from schemas.verdicts import Verdict
from tests.sandbox.corpus import DAEMON_MARK, FRESH_SCRATCH, SANDBOX_FACTS, SECRET_MARKERS, WITNESS, Attack
from tests.sandbox.corpus_python import python_attacks
from tests.sandbox.harness import Job, WorkerHarness, WorkerRun

WALL_SLACK_MS = 1500
"""A run may end this much after its wall limit: the kill, the pipes draining, the sandbox tearing down."""
WITNESS_START_S = 1.5
OUR_PROCESSES = ("/sbin/docker-init", "/opt/executioner/venv/bin/python", "bwrap ", "sandbox-init ")
"""Command lines of the container's init, the worker, its fork server and pool processes, sandboxes, and
a warm sandbox's init (worker/warm_init.py)."""
SANDBOX_MODES = ["bwrap", "warm"]
"""``EXECUTIONER_SANDBOX`` of the workers: every corpus runs against each (worker/warm.py)."""
DEFAULT_SANDBOX = "warm"


def in_mode(value: object, mode: str) -> Any:
    """``value`` as a test parameter of sandbox ``mode``: CI (``make test``) runs the default mode's,
    ``make test-all`` both (the other is marked ``extended``)."""
    return pytest.param(value, marks=() if mode == DEFAULT_SANDBOX else pytest.mark.extended)


MODE_PARAMS = [in_mode(mode, mode) for mode in SANDBOX_MODES]


@dataclass
class Witness:
    """The container's processes while the witness job runs (after every attack has ended)."""

    commands: list[str] = field(default_factory=list)

    def look(self, container: Any) -> None:
        """Record the container's processes once the witness program itself runs (its ``running`` event
        comes a moment before the program starts)."""
        deadline = time.monotonic() + WITNESS_START_S
        while True:
            top = container.top()
            column = top["Titles"].index("CMD")
            self.commands = [row[column] for row in top["Processes"]]
            if any(_is_witness(c) for c in self.commands) or time.monotonic() > deadline:
                return
            time.sleep(0.02)  # a process list is not an event; poll it briefly


def _is_witness(command: str) -> bool:
    return command.startswith("python3 -E -s main.py")  # runtimes/python/runtime.toml's run command


def _broker() -> tuple[str, int]:
    host, _, port = os.environ["EXECUTIONER_WORKER_KAFKA_BOOTSTRAP"].split(",")[0].rpartition(":")
    return host, int(port)


ATTACK_NAMES = sorted(a.job.name for a in python_attacks("192.0.2.1", 9))
"""Known at collection; the attacks themselves need the broker's address, known once services run."""


@functools.cache
def attacks() -> dict[str, Attack]:
    """The Python corpus, aimed at this run's broker."""
    return {a.job.name: a for a in python_attacks(*_broker())}


@pytest.fixture(scope="module")
def witness() -> Witness:
    return Witness()


@pytest.fixture(scope="module", params=MODE_PARAMS)
async def corpus_run(request: Any, harness: WorkerHarness, witness: Witness, artifacts: Path) -> WorkerRun:
    """The whole corpus, then the checks, on one worker container with the master's default pool (1), in
    each sandbox mode. Every outcome is left in ``test-artifacts/sandbox-corpus-python-<mode>.json``."""
    jobs = [
        Job("sandbox_facts", SANDBOX_FACTS),
        *(attack.job for attack in attacks().values()),
        Job("fresh_scratch", FRESH_SCRATCH),
        Job("witness", WITNESS),
        Job("sentinel", "print(6 * 7)"),
    ]
    run = await harness.run(
        "python", jobs, on_running={"witness": witness.look}, worker_sandbox=request.param
    )
    run.save(artifacts, f"sandbox-corpus-python-{request.param}")
    return run


def _runs(result: ResultEvent) -> list[RunReport]:
    outcome = result.outcome
    return [r for r in (outcome.compile, outcome.run, *outcome.tests) if r is not None]


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_the_attack_gets_the_verdict_of_a_sandbox_that_held(corpus_run: WorkerRun, name: str) -> None:
    outcome = corpus_run.results[name].outcome
    runs = _runs(corpus_run.results[name])
    assert outcome.verdict in attacks()[name].verdicts, (outcome.verdict, outcome.message, runs)


def test_every_run_ends_within_its_wall_limit(corpus_run: WorkerRun) -> None:
    for name, result in corpus_run.results.items():
        wall_ms = result.outcome.limits.wall_ms
        assert wall_ms is not None
        for run in _runs(result):
            assert run.wall_ms <= wall_ms + WALL_SLACK_MS, (name, run.wall_ms)


def assert_nothing_leaked(run: WorkerRun) -> None:
    """No secret of the worker appears in any output of any job of ``run``."""
    for name, result in run.results.items():
        for report in _runs(result):
            for marker in SECRET_MARKERS:
                assert marker not in report.stdout + report.stderr, (name, marker)


def sandbox_facts(run: WorkerRun, max_processes: int) -> dict[str, Any]:
    """The ``sandbox_facts`` job's report, once what every sandbox promises is checked in it."""
    result = run.results["sandbox_facts"].outcome
    assert result.verdict is Verdict.ACCEPTED, result
    assert result.run is not None
    facts: dict[str, Any] = json.loads(result.run.stdout)
    assert facts["env"] == ["HOME", "LANG", "OPENBLAS_NUM_THREADS", "PATH", "TMPDIR"]  # ours + the runtime's
    assert (facts["home"], facts["cwd"]) == ("/tmp", "/tmp")
    assert (facts["uid"], facts["hostname"]) == (65534, "sandbox")
    assert facts["pid"] < 10, "its own pid namespace"
    assert facts["interfaces"] == ["lo"], "no network but loopback"
    assert facts["writable"] == ["/tmp", "/dev/shm"]
    assert f"Max processes             {max_processes}" in facts["limits"]
    return facts


def test_nothing_of_the_worker_leaks_into_any_output(corpus_run: WorkerRun) -> None:
    assert_nothing_leaked(corpus_run)


def test_a_job_sees_only_its_sandbox(corpus_run: WorkerRun) -> None:
    facts = sandbox_facts(corpus_run, 256)
    assert facts["oom_score_adj"] == "1000"
    assert facts["hidden"] == ["/proc/acpi", "/sys/firmware"]
    assert facts["keys"] in ("EACCES", "ENOENT"), "hidden, or absent from this kernel"


def test_a_new_job_gets_a_clean_scratch_space_after_fills_and_traps(corpus_run: WorkerRun) -> None:
    outcome = corpus_run.results["fresh_scratch"].outcome
    assert outcome.verdict is Verdict.ACCEPTED, outcome
    assert outcome.run is not None and outcome.run.stdout == "clean\n"


def test_no_process_outlives_its_job(corpus_run: WorkerRun, witness: Witness) -> None:
    assert corpus_run.results["witness"].outcome.verdict is Verdict.ACCEPTED
    commands = witness.commands
    assert commands, "the witness saw the container's processes"
    assert not [c for c in commands if DAEMON_MARK in c], commands
    # The worker, its fork server and pool process, and the witness in its sandbox: nothing else.
    programs = [c for c in commands if _is_witness(c)]
    ours = [c for c in commands if c.startswith(OUR_PROCESSES)]
    assert len(programs) == 1, commands
    assert len(programs) + len(ours) == len(commands), commands


def test_the_same_worker_runs_a_normal_job_after_the_corpus(corpus_run: WorkerRun) -> None:
    outcome = corpus_run.results["sentinel"].outcome
    assert outcome.verdict is Verdict.ACCEPTED, outcome
    assert outcome.run is not None and outcome.run.stdout == "42\n"
    assert corpus_run.exit_code == 0, corpus_run.logs[-3000:]
    assert not [r for r in corpus_run.results.values() if r.outcome.verdict is Verdict.INTERNAL_ERROR]
