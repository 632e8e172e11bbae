"""Every runtime works inside the sandbox: a worker container of each language passes its start-up
self-test (its echo program compiled and run through the real, sandboxed execute path) and, with an
empty queue in burst mode, exits 0; with a sandbox per command and with a warm one."""

import pytest

from tests.runtimes.cases import LANGUAGES
from tests.sandbox.harness import WorkerHarness
from tests.sandbox.test_hostile_corpus import MODE_PARAMS


@pytest.mark.parametrize("mode", MODE_PARAMS)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_runtime_passes_its_self_test_in_the_sandbox(
    harness: WorkerHarness, language: str, mode: str
) -> None:
    run = await harness.run(language, [], worker_sandbox=mode)
    assert run.exit_code == 0, run.logs[-3000:]
    assert "self-test of" in run.logs
