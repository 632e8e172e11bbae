"""The C corpus through one real C worker container: the compiler runs under the same sandbox as the
program, so a hostile source cannot use it to escape, hang or starve the worker either."""

from pathlib import Path

import pytest

from schemas.verdicts import Verdict
from tests.sandbox.corpus import SECRET_MARKERS
from tests.sandbox.corpus_c import c_attacks
from tests.sandbox.harness import Job, WorkerHarness, WorkerRun

ATTACKS = {a.job.name: a for a in c_attacks()}
HELLO = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'


@pytest.fixture(scope="module")
async def c_run(harness: WorkerHarness, artifacts: Path) -> WorkerRun:
    """The C corpus, then a normal program, on one worker container (outcomes left in
    ``test-artifacts/sandbox-corpus-c.json``)."""
    jobs = [*(attack.job for attack in ATTACKS.values()), Job("sentinel", HELLO)]
    run = await harness.run("c", jobs)
    run.save(artifacts, "sandbox-corpus-c")
    return run


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_the_attack_gets_the_verdict_of_a_sandbox_that_held(c_run: WorkerRun, name: str) -> None:
    outcome = c_run.results[name].outcome
    assert outcome.verdict in ATTACKS[name].verdicts, (outcome.verdict, outcome.message, outcome)
    for run in (outcome.compile, outcome.run):
        if run is not None:
            assert not any(marker in run.stdout + run.stderr for marker in SECRET_MARKERS)


def test_the_compiler_is_stopped_by_its_limits(c_run: WorkerRun) -> None:
    compiled = c_run.results["macro_bomb"].outcome.compile
    assert compiled is not None
    assert compiled.verdict is not Verdict.ACCEPTED
    assert compiled.wall_ms < 3 * 15_000, compiled


def test_the_same_worker_compiles_and_runs_a_normal_program_afterwards(c_run: WorkerRun) -> None:
    outcome = c_run.results["sentinel"].outcome
    assert outcome.verdict is Verdict.ACCEPTED, outcome
    assert outcome.run is not None and outcome.run.stdout == "hello\n"
    assert c_run.exit_code == 0, c_run.logs[-3000:]
