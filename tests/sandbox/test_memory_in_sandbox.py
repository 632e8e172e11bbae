"""A run's reported memory in a warm sandbox is the program's own: the same programs (a tiny C program, a
C program and a Python program touching N MiB, an idle Python program) get the same verdicts with a
sandbox per command (``bwrap``) and with a warm sandbox (``warm``), on runc and on gVisor, and report
the memory that sandboxes per command report, minus what those count of their own.

Why it can differ at all. A command's peak resident size (``ru_maxrss``) covers its whole life, the
process it was forked from included: started straight from the warm sandbox's Python init, a command
reported the init's size, or nothing (worker/warm_init.py, :data:`~worker.warm_init.SPAWNER`). And the
watchdog's samples of resident memory sum the command's process tree, which under bubblewrap per command
also holds the two ``bwrap`` processes and the ``sh`` prelude: a sandbox per command reports more, by
1-3.5 MiB on runc and 5-9 MiB on gVisor (whose Sentry counts a process's memory its own way), and the
samples catch those processes in some runs and not others (docs/benchmarks.md, the figures).
Hence the bounds: ``0 < warm <= bwrap + SAMPLING_KB`` and ``bwrap - warm <= BWRAP_OWN_KB``.
"""

import statistics
from pathlib import Path
from typing import Any

import pytest

from schemas.results import Outcome
from schemas.verdicts import Verdict
from tests.sandbox.harness import Job, WorkerHarness
from tests.sandbox.test_hostile_corpus import SANDBOX_MODES

pytestmark = pytest.mark.timeout(1200)  # each runtime's fixture runs four worker containers in turn

ALLOCATED_MIB = 48
SAMPLING_KB = 1024
"""The same program's reports vary by about this much from run to run (the watchdog samples every 5 ms)."""
BWRAP_OWN_KB = {"runc": 5 * 1024, "runsc": 12 * 1024}
"""The most a sandbox per command adds of its own processes (see above), with room for sampling."""
REPEATS = 3
"""Each program runs as this many tests of one job; the median of their reports is compared."""
LIMITS = {"time_ms": 4000, "wall_ms": 10000, "memory_mb": 256, "output_kb": 64}
TOUCH_C = f"""#include <stdlib.h>
int main(void) {{
    size_t size = (size_t){ALLOCATED_MIB} << 20;
    volatile char *block = malloc(size); /* volatile: every page is really written */
    if (block == NULL) return 1;
    for (size_t at = 0; at < size; at += 4096) block[at] = 1;
    return 0;
}}
"""
PROGRAMS = {
    "c": {"tiny": "int main(void) { return 0; }\n", "allocates": TOUCH_C},
    "python": {
        "tiny": "pass\n",
        "allocates": f"block = b'\\x01' * ({ALLOCATED_MIB} << 20)\nassert block[-1] == 1\n",
    },
}
"""Per language: a program that allocates (almost) nothing, and one that touches N MiB."""
RUNTIMES = ("runc", "runsc")
Reports = dict[tuple[str, str, str], Outcome]
"""Outcomes by (mode, language, program name)."""


def _job(name: str, source: str) -> Job:
    return Job(name, source, tests=[{"stdin": "", "expected_output": ""}] * REPEATS, limits=LIMITS)


# On runc in CI; on gVisor too in `make test-all` (the same comparison, 18 s more).
RUNTIME_PARAMS = [
    pytest.param(runtime, marks=[pytest.mark.extended] * (runtime == "runsc")) for runtime in RUNTIMES
]


@pytest.fixture(scope="module", params=RUNTIME_PARAMS)
async def reports(request: Any, harness: WorkerHarness, artifacts: Path) -> tuple[str, Reports]:
    """Every program's outcome on one runtime, a worker container per mode and language; outcomes left
    in ``test-artifacts/sandbox-memory-<runtime>-<mode>-<language>.json``."""
    found: Reports = {}
    for mode in SANDBOX_MODES:
        for language, programs in PROGRAMS.items():
            jobs = [_job(name, source) for name, source in programs.items()]
            run = await harness.run(language, jobs, worker_runtime=request.param, worker_sandbox=mode)
            run.save(artifacts, f"sandbox-memory-{request.param}-{mode}-{language}")
            for name in programs:
                found[mode, language, name] = run.results[name].outcome
    return request.param, found


def _memory_kb(outcome: Outcome) -> int:
    """The median memory of the program's runs, once each ran as it should."""
    assert outcome.verdict is Verdict.ACCEPTED, outcome
    assert len(outcome.tests) == REPEATS and all(t.exit_code == 0 for t in outcome.tests), outcome
    return int(statistics.median(test.memory_kb for test in outcome.tests))


PROGRAM_NAMES = [(language, name) for language, programs in PROGRAMS.items() for name in programs]


@pytest.mark.parametrize(("language", "name"), PROGRAM_NAMES, ids=["-".join(p) for p in PROGRAM_NAMES])
def test_warm_reports_what_a_sandbox_per_command_does_without_its_own_processes(
    reports: tuple[str, Reports], language: str, name: str
) -> None:
    runtime, found = reports
    bwrap, warm = (_memory_kb(found[mode, language, name]) for mode in ("bwrap", "warm"))
    assert 0 < warm <= bwrap + SAMPLING_KB, {"bwrap": bwrap, "warm": warm}
    assert bwrap - warm <= BWRAP_OWN_KB[runtime], {"bwrap": bwrap, "warm": warm}


@pytest.mark.parametrize("mode", SANDBOX_MODES)
@pytest.mark.parametrize("language", PROGRAMS)
def test_the_allocated_mebibytes_show_in_the_report(
    reports: tuple[str, Reports], language: str, mode: str
) -> None:
    runtime, found = reports
    tiny, allocates = (_memory_kb(found[mode, language, name]) for name in ("tiny", "allocates"))
    grown = allocates - tiny
    # Exact in a warm sandbox; per command, bubblewrap's own processes are in some samples and not others.
    tolerance = 2 * SAMPLING_KB if mode == "warm" else BWRAP_OWN_KB[runtime]
    assert abs(grown - ALLOCATED_MIB * 1024) <= tolerance, {"tiny": tiny, "allocates": allocates}


def test_in_a_warm_sandbox_a_tiny_c_program_holds_less_than_an_idle_interpreter(
    reports: tuple[str, Reports],
) -> None:
    """What the init's size used to hide: a C program that does nothing holds its few pages and the C
    library, a small fraction of an interpreter that does nothing."""
    _, found = reports
    c, python = (_memory_kb(found["warm", language, "tiny"]) for language in ("c", "python"))
    assert 0 < 2 * c < python, {"c": c, "python": python}
