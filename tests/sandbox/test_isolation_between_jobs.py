"""Jobs running side by side in one worker container (a pool of two): one job's fork bomb meets its own
process limit, and the other job, the worker and its Kafka traffic carry on."""

from schemas.verdicts import Verdict
from tests.sandbox.corpus import SHELL_FORK_BOMB
from tests.sandbox.harness import Job, WorkerHarness

NORMAL_JOBS = 6


async def test_a_fork_bomb_does_not_starve_the_job_next_to_it(harness: WorkerHarness) -> None:
    bomb = Job("fork_bomb", SHELL_FORK_BOMB, limits={"time_ms": 2000, "wall_ms": 6000, "memory_mb": 512})
    normal = [
        Job(f"normal_{n}", f"import os\nos.fork() or os._exit(0)\nprint({n} * {n})")
        for n in range(NORMAL_JOBS)
    ]
    run = await harness.run("python", [bomb, *normal], worker_pool_size=2)

    outcome = run.results["fork_bomb"].outcome
    assert outcome.verdict is Verdict.TIME_LIMIT_EXCEEDED, outcome
    assert outcome.run is not None and "fork" in outcome.run.stderr.lower(), "it hit its process limit"
    for n in range(NORMAL_JOBS):
        done = run.results[f"normal_{n}"].outcome
        assert done.verdict is Verdict.ACCEPTED, done
        assert done.run is not None and done.run.stdout == f"{n * n}\n"
    assert run.exit_code == 0, run.logs[-3000:]
