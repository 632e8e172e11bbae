"""Checkers and interactors in the real worker container, in each sandbox mode (a sandbox per command, a
warm sandbox) and on each container runtime (runc, gVisor's runsc): they judge, and the submission can
neither see the checker's files nor leave anything the checker runs on; an interactive test's two sides
talk through the worker."""

from pathlib import Path
from typing import Any

import pytest

from schemas.verdicts import Verdict
from tests.sandbox.harness import Job, WorkerHarness, WorkerRun
from tests.sandbox.test_hostile_corpus import SANDBOX_MODES, in_mode

JUDGES = Path(__file__).resolve().parents[1] / "worker" / "judges"
# Roomy wall times: what is tested is where the judges run, on a machine that may be busy.
ROOMY = {"time_ms": 2000, "wall_ms": 20000}
PERMUTATION = {
    "language": "python",
    "source": (JUDGES / "permutation_checker.py").read_text(),
    "limits": ROOMY,
}
GUESS = {"language": "python", "source": (JUDGES / "guess_interactor.py").read_text(), "limits": ROOMY}
# The submission looks for the checker's files and plants a fake checker where a shared scratch space
# would put the real one; then prints a wrong permutation, which only the real checker rejects.
SNOOP = (
    "import os, sys\n"
    "print(sorted(os.listdir('/tmp')), file=sys.stderr)\n"
    "for name in ('main.py', 'executioner_checker.py', 'answer.txt'):\n"
    "    open('/tmp/' + name, 'w').write('raise SystemExit(0)\\n')\n"
    "print(*[1] * int(input()))\n"
)
TESTS = [{"stdin": "3\n", "expected_output": "1 2 3\n"}]
GAME = [{"stdin": "100 37 7\n", "expected_output": ""}]


@pytest.fixture(
    scope="module",
    params=[in_mode((runtime, mode), mode) for mode in SANDBOX_MODES for runtime in ("runc", "runsc")],
    ids="-".join,
)
async def judged(request: Any, harness: WorkerHarness, artifacts: Path) -> WorkerRun:
    runtime, mode = request.param
    jobs = [
        Job(
            "permutation",
            "print(*range(int(input()), 0, -1))",
            tests=TESTS,
            limits=ROOMY,
            fields={"checker": PERMUTATION},
        ),
        Job("snoop", SNOOP, tests=TESTS, limits=ROOMY, fields={"checker": PERMUTATION}),
        Job(
            "again",
            "print(*range(int(input()), 0, -1))",
            tests=TESTS,
            limits=ROOMY,
            fields={"checker": PERMUTATION},
        ),
        Job(
            "game",
            (JUDGES / "binary_search.py").read_text(),
            tests=GAME,
            limits=ROOMY,
            fields={"interactor": GUESS},
        ),
        Job("silent", "input()\ninput()", tests=GAME, fields={"interactor": GUESS}),
    ]
    run = await harness.run("python", jobs, worker_runtime=runtime, worker_sandbox=mode)
    run.save(artifacts, f"sandbox-judges-{runtime}-{mode}")
    return run


def test_checker_judges_in_its_own_space(judged: WorkerRun) -> None:
    permutation = judged.results["permutation"].outcome
    assert permutation.verdict is Verdict.ACCEPTED, permutation
    assert permutation.tests[0].checker_message == "a permutation of 3"
    snoop = judged.results["snoop"].outcome
    assert snoop.verdict is Verdict.WRONG_ANSWER, snoop  # the planted "checker" was not the one run
    assert snoop.tests[0].checker_message == "3 numbers but not all different"
    assert snoop.tests[0].stderr == "['main.py']\n"  # its own program only: no checker, no answer
    assert judged.results["again"].outcome.verdict is Verdict.ACCEPTED  # the cached build is intact


def test_interactive_tests_in_the_sandbox(judged: WorkerRun) -> None:
    game = judged.results["game"].outcome
    assert game.verdict is Verdict.ACCEPTED, game
    assert game.tests[0].stdout.startswith("? 50\n")
    silent = judged.results["silent"].outcome
    assert silent.verdict is Verdict.TIME_LIMIT_EXCEEDED, silent
