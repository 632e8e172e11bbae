"""The hostile Python corpus again, in a worker container on gVisor's kernel (the master's
``EXECUTIONER_WORKER_RUNTIME=runsc``; the test services register that runtime, devstack/gvisor.py): the
same verdicts, nothing leaks, and the same container then runs normal jobs. The sandbox differs there
(worker/gvisor.py), so this checks what it promises all over again."""

from pathlib import Path
from typing import Any

import pytest

from schemas.verdicts import Verdict
from tests.sandbox.corpus import FRESH_SCRATCH, SANDBOX_FACTS
from tests.sandbox.harness import Job, WorkerHarness, WorkerRun
from tests.sandbox.test_hostile_corpus import (
    ATTACK_NAMES,
    MODE_PARAMS,
    assert_nothing_leaked,
    attacks,
    sandbox_facts,
)
from worker.gvisor import JOB_PROCESSES

RUNTIME = "runsc"


@pytest.fixture(scope="module", params=MODE_PARAMS)
async def gvisor_run(request: Any, harness: WorkerHarness, artifacts: Path) -> WorkerRun:
    """The corpus on one gVisor worker container (pool of 1), in order, then the checks, in each sandbox
    mode; outcomes and the worker's log are left in ``test-artifacts/sandbox-corpus-python-gvisor-*``."""
    jobs = [
        Job("sandbox_facts", SANDBOX_FACTS),
        *(attack.job for attack in attacks().values()),
        Job("fresh_scratch", FRESH_SCRATCH),
        Job("sentinel", "print(6 * 7)"),
    ]
    run = await harness.run("python", jobs, worker_runtime=RUNTIME, worker_sandbox=request.param)
    run.save(artifacts, f"sandbox-corpus-python-gvisor-{request.param}")
    return run


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_the_attack_gets_the_verdict_of_a_sandbox_that_held(gvisor_run: WorkerRun, name: str) -> None:
    outcome = gvisor_run.results[name].outcome
    # Every system call costs far more on gVisor, so an attack made of many (16,384 files, a disk fill)
    # may reach its time limit before the resource it exhausts: still held, never accepted.
    assert outcome.verdict in attacks()[name].verdicts | {Verdict.TIME_LIMIT_EXCEEDED}, (
        outcome.verdict,
        outcome.message,
    )


def test_nothing_of_the_worker_leaks_into_any_output(gvisor_run: WorkerRun) -> None:
    assert_nothing_leaked(gvisor_run)


def test_a_job_sees_only_its_sandbox(gvisor_run: WorkerRun) -> None:
    # Loopback only: the pool process's network namespace; fewer processes than on runc.
    sandbox_facts(gvisor_run, JOB_PROCESSES)


def test_the_same_container_runs_normal_jobs_afterwards(gvisor_run: WorkerRun) -> None:
    fresh = gvisor_run.results["fresh_scratch"].outcome
    assert fresh.verdict is Verdict.ACCEPTED and fresh.run is not None and fresh.run.stdout == "clean\n"
    sentinel = gvisor_run.results["sentinel"].outcome
    assert sentinel.verdict is Verdict.ACCEPTED and sentinel.run is not None
    assert sentinel.run.stdout == "42\n"
    assert gvisor_run.exit_code == 0, gvisor_run.logs[-2000:]  # burst mode: it ran out of jobs, no crash
