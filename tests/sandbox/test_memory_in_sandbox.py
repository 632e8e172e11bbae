"""A run's reported memory does not depend on the sandbox mode: a tiny C program, and Python programs
that allocate nothing and N MiB, report the same peak resident memory with a sandbox per command
(``bwrap``) as with a warm sandbox reused by every command (``warm``), on runc and on gVisor.

Why it can differ at all: a command's peak resident size (``ru_maxrss``) covers its whole life, the
process it was forked from included, so a command started straight from the warm sandbox's Python init
used to report the init's size, or nothing (worker/warm_init.py's :data:`~worker.warm_init.SPAWNER`).
The tolerance: under bubblewrap the command is ``exec``'d from a ``sh`` prelude, in a warm sandbox from
util-linux's ``setsid``, so either mode's peak is at least that small process's (under a MiB); and under
bubblewrap the watchdog's samples of the tree's resident memory also count the two ``bwrap`` processes
(about a MiB each) while a long program runs. A program whose memory came from its start-up process
instead of itself is off by the interpreter's several MiB, far outside.
"""

import statistics
from pathlib import Path
from typing import Any

import pytest

from schemas.verdicts import Verdict
from tests.sandbox.harness import Job, WorkerHarness, WorkerRun
from tests.sandbox.test_hostile_corpus import SANDBOX_MODES

ALLOCATED_MIB = 48
TOLERANCE_KB = 3 * 1024
"""How far the two modes' reports of one program may be apart (see above)."""
REPEATS = 3
"""Each program runs as this many tests of one job; the median of their reports is compared."""
LIMITS = {"time_ms": 4000, "wall_ms": 10000, "memory_mb": 256, "output_kb": 64}
PROGRAMS = {
    "c": {
        "tiny": "int main(void) { return 0; }\n",
        "allocates": (
            "#include <stdlib.h>\n#include <string.h>\n"
            f"int main(void) {{ size_t n = (size_t){ALLOCATED_MIB} << 20; char *p = malloc(n);\n"
            "  if (!p) return 1; memset(p, 1, n); return p[n - 1] == 1 ? 0 : 2; }\n"
        ),
    },
    "python": {
        "tiny": "pass\n",
        "allocates": f"block = b'\\x01' * ({ALLOCATED_MIB} << 20)\nassert block[-1] == 1\n",
    },
}
"""Per language: a program that allocates (almost) nothing, and one that touches N MiB."""
RUNTIMES = ("runc", "runsc")


def _job(name: str, source: str) -> Job:
    return Job(name, source, tests=[{"stdin": "", "expected_output": ""}] * REPEATS, limits=LIMITS)


@pytest.fixture(scope="module")
async def reports(harness: WorkerHarness, artifacts: Path) -> dict[tuple[str, str, str, str], Any]:
    """Each program's outcome by (runtime, mode, language, program name), one worker container per
    runtime, mode and language; outcomes left in ``test-artifacts/sandbox-memory-*``."""
    found: dict[tuple[str, str, str, str], Any] = {}
    for runtime in RUNTIMES:
        for mode in SANDBOX_MODES:
            for language, programs in PROGRAMS.items():
                jobs = [_job(name, source) for name, source in programs.items()]
                run: WorkerRun = await harness.run(
                    language, jobs, worker_runtime=runtime, worker_sandbox=mode
                )
                run.save(artifacts, f"sandbox-memory-{runtime}-{mode}-{language}")
                for name in programs:
                    found[runtime, mode, language, name] = run.results[name].outcome
    return found


def _memory_kb(outcome: Any) -> int:
    """The median memory of the program's runs, once each ran as it should."""
    assert outcome.verdict is Verdict.ACCEPTED, outcome
    assert len(outcome.tests) == REPEATS and all(t.exit_code == 0 for t in outcome.tests), outcome
    return int(statistics.median(test.memory_kb for test in outcome.tests))


CASES = [(r, lang, name) for r in RUNTIMES for lang, programs in PROGRAMS.items() for name in programs]


@pytest.mark.parametrize(("runtime", "language", "name"), CASES, ids="-".join)
def test_a_program_reports_the_same_memory_in_both_modes(
    reports: dict[tuple[str, str, str, str], Any], runtime: str, language: str, name: str
) -> None:
    bwrap, warm = (_memory_kb(reports[runtime, mode, language, name]) for mode in ("bwrap", "warm"))
    assert bwrap > 0 and warm > 0, (bwrap, warm)
    assert abs(warm - bwrap) <= TOLERANCE_KB, {"bwrap": bwrap, "warm": warm}


@pytest.mark.parametrize("mode", SANDBOX_MODES)
@pytest.mark.parametrize(("runtime", "language"), [(r, lang) for r in RUNTIMES for lang in PROGRAMS])
def test_the_allocated_mebibytes_show_in_the_report(
    reports: dict[tuple[str, str, str, str], Any], runtime: str, language: str, mode: str
) -> None:
    tiny = _memory_kb(reports[runtime, mode, language, "tiny"])
    allocates = _memory_kb(reports[runtime, mode, language, "allocates"])
    grown = allocates - tiny
    assert abs(grown - ALLOCATED_MIB * 1024) <= TOLERANCE_KB, {"tiny": tiny, "allocates": allocates}
