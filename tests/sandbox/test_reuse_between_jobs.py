"""Nothing carries over from one job to the next on the same pool slot, nor from one command of a job
to the next: no file, no process, no mount, no open descriptor, no environment, no IPC object, no socket.

One worker container with a pool of one runs, in order: an inventory of everything a job can see; a
job whose first test leaves litter everywhere it can (tests/sandbox/corpus_reuse.py) and whose second
test takes the inventory again (processes, descriptors and the rest die with each command; files in the
job's own scratch space are its own until the job ends); a litterer job; another inventory, which must
equal the first; and a witness, while which the container's process list must show no leftover. On runc
and on gVisor, where the sandbox is set up differently (worker/gvisor.py); with a sandbox per command
and with a warm sandbox reused by every job of the slot (worker/warm.py), where these are the tests that
its reset holds.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.results import Outcome
from schemas.verdicts import Verdict
from tests.sandbox.corpus import WITNESS
from tests.sandbox.corpus_reuse import LITTER_MARK, REUSE_PROGRAM
from tests.sandbox.harness import Job, WorkerHarness, WorkerRun
from tests.sandbox.test_hostile_corpus import SANDBOX_MODES, Witness, in_mode

LIMITS = {"time_ms": 8000, "wall_ms": 20000, "memory_mb": 128, "output_kb": 1024}
"""Walking the whole file system for writable directories takes a while, on gVisor most."""
SCRATCH = ("/tmp", "/dev/shm")


def _job(name: str, *roles: str) -> Job:
    if len(roles) == 1:
        return Job(name, REUSE_PROGRAM, stdin=roles[0], limits=LIMITS)
    return Job(
        name,
        REUSE_PROGRAM,
        tests=[{"stdin": role, "expected_output": ""} for role in roles],
        limits=LIMITS,
    )


@pytest.fixture(
    scope="module",
    params=[in_mode((runtime, mode), mode) for mode in SANDBOX_MODES for runtime in ("runc", "runsc")],
    ids="-".join,
)
async def reuse_run(request: Any, harness: WorkerHarness, artifacts: Path) -> tuple[WorkerRun, Witness]:
    """The jobs above on one worker container; outcomes left in ``test-artifacts/sandbox-reuse-*``."""
    runtime, mode = request.param
    witness = Witness()
    jobs = [
        _job("before", "inventory"),
        _job("within_one_job", "litter", "inventory"),
        _job("litterer", "litter"),
        _job("after", "inventory"),
        Job("witness", WITNESS),
    ]
    run = await harness.run(
        "python", jobs, on_running={"witness": witness.look}, worker_runtime=runtime, worker_sandbox=mode
    )
    run.save(artifacts, f"sandbox-reuse-{runtime}-{mode}")
    return run, witness


def _stdouts(outcome: Outcome) -> list[str]:
    if outcome.run is not None:
        assert outcome.verdict is Verdict.ACCEPTED, outcome
        return [outcome.run.stdout]
    assert all(test.verdict is Verdict.WRONG_ANSWER for test in outcome.tests), outcome  # ran, printed
    return [test.stdout for test in outcome.tests]


def _report(run: WorkerRun, name: str, index: int = 0) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(_stdouts(run.results[name].outcome)[index])
    return report


def _without_scratch_files(inventory: dict[str, Any]) -> dict[str, Any]:
    """The inventory minus the files in the job's own scratch space, which last as long as the job."""
    kept = dict(inventory)
    kept["writable"] = {place: [] for place in inventory["writable"] if place in SCRATCH}
    return kept


def test_the_litterer_left_something_everywhere_it_could(reuse_run: tuple[WorkerRun, Witness]) -> None:
    run, _ = reuse_run
    for name, index in (("litterer", 0), ("within_one_job", 0)):
        litter = _report(run, name, index)
        assert litter["daemon"] and litter["semaphore"], litter
        assert all(litter["places"].get(place, 0) == 7 for place in SCRATCH), litter["places"]


def test_the_next_job_on_the_slot_finds_nothing_of_the_last(reuse_run: tuple[WorkerRun, Witness]) -> None:
    run, _ = reuse_run
    before, after = _report(run, "before"), _report(run, "after")
    assert before["writable"]["/tmp"] == ["/tmp/main.py"], before["writable"]
    for facet in before:
        assert after[facet] == before[facet], (facet, before[facet], after[facet])
    assert after["semaphore"] == "absent" and after["daemon_answers"] == []
    assert not [p for p in after["processes"] if LITTER_MARK in p], after["processes"]
    assert set(after["descriptors"]) <= {"0", "1", "2", "3"}, after["descriptors"]


def test_the_next_command_of_a_job_finds_nothing_but_its_files(reuse_run: tuple[WorkerRun, Witness]) -> None:
    run, _ = reuse_run
    before, second = _report(run, "before"), _report(run, "within_one_job", 1)
    own = [path for path in second["writable"]["/tmp"] if path.startswith("/tmp/litter-from-an-earlier-job")]
    assert len(own) >= 5, "the job's files stay its own until it ends"
    assert _without_scratch_files(second) == _without_scratch_files(before)


def test_no_leftover_process_runs_in_the_container(reuse_run: tuple[WorkerRun, Witness]) -> None:
    run, witness = reuse_run
    assert run.results["witness"].outcome.verdict is Verdict.ACCEPTED
    assert witness.commands, "the witness saw the container's processes"
    assert not [command for command in witness.commands if LITTER_MARK in command], witness.commands
    assert run.exit_code == 0, run.logs[-3000:]
    assert not [r for r in run.results.values() if r.outcome.verdict is Verdict.INTERNAL_ERROR]
