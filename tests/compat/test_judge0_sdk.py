"""The official judge0 SDK (PyPI ``judge0``), unmodified, against the cluster's ``/judge0`` API: the
client's start-up calls, ``judge0.run`` with test cases (a batch, Base64 both ways), statuses."""

import asyncio

import judge0
import pytest

from tests.fixtures.cluster import Cluster

pytestmark = pytest.mark.e2e

REVERSE = "print(input()[::-1])"


@pytest.fixture(scope="module")
async def sdk_client(cluster: Cluster) -> judge0.Client:
    # The constructor asks /languages and /config_info, and fails when either is not as Judge0's.
    return await asyncio.to_thread(judge0.Client, f"{cluster.api_url}/judge0")


async def test_the_client_sees_judge0s_languages_and_version(sdk_client: judge0.Client) -> None:
    ids = {language.id for language in sdk_client.languages}
    assert {71, 54, 50, 62, 63, 60, 73} <= ids
    assert sdk_client.version == "1.13.1"
    assert sdk_client.is_language_supported(judge0.PYTHON)
    assert sdk_client.is_language_supported(judge0.CPP)  # Judge0 1.13.1's alias: id 52
    assert sdk_client.config.enable_batched_submissions
    statuses = await asyncio.to_thread(sdk_client.get_statuses)
    assert [s["id"] for s in statuses] == list(range(1, 15))


async def test_run_with_test_cases_reports_each_verdict(sdk_client: judge0.Client) -> None:
    results = await asyncio.to_thread(
        judge0.run,
        client=sdk_client,
        source_code=REVERSE,
        language=judge0.PYTHON,
        test_cases=[("abc", "cba"), ("héllo", "olléh"), ("xy", "no")],
    )
    assert [r.status for r in results] == [
        judge0.Status.ACCEPTED,
        judge0.Status.ACCEPTED,
        judge0.Status.WRONG_ANSWER,
    ]
    # Output travels back in Base64 (the SDK always asks for it) and decodes to the program's text.
    assert [r.stdout for r in results] == ["cba\n", "olléh\n", "yx\n"]
    assert all(r.time is not None and r.memory is not None for r in results)


async def test_a_single_run_shows_runtime_errors_and_compile_errors(sdk_client: judge0.Client) -> None:
    crashed = await asyncio.to_thread(
        judge0.run, client=sdk_client, source_code="import sys\nsys.exit(3)", language=judge0.PYTHON
    )
    assert crashed.status == judge0.Status.RUNTIME_ERROR_NZEC
    assert crashed.exit_code == 3
    broken = await asyncio.to_thread(
        judge0.run, client=sdk_client, source_code="int main() { return x; }", language=54
    )
    assert broken.status == judge0.Status.COMPILATION_ERROR
    assert broken.compile_output and "x" in broken.compile_output


async def test_request_features_through_the_sdk(sdk_client: judge0.Client) -> None:
    # The SDK zips additional_files itself and sends the rest as Judge0 attributes.
    helper = judge0.File(name="helper.py", content="def shout(s):\n    return s.upper()\n")
    # stdout is flushed before stderr is written: a pipe is block-buffered, so only then is the order fixed.
    source = (
        "import sys, helper\n"
        "print(helper.shout(' '.join(sys.argv[1:])), flush=True)\n"
        "print('e', file=sys.stderr)"
    )
    result = await asyncio.to_thread(
        judge0.run,
        client=sdk_client,
        source_code=source,
        language=judge0.PYTHON,
        additional_files=judge0.Filesystem(content=[helper]),
        command_line_arguments="one 'two three'",
        redirect_stderr_to_stdout=True,
        number_of_runs=2,
    )
    assert result.status == judge0.Status.ACCEPTED
    assert result.stdout == "ONE TWO THREE\ne\n"
    assert result.number_of_runs == 2


async def test_a_multi_file_program_through_the_sdk(sdk_client: judge0.Client) -> None:
    # Judge0's language 89: the SDK zips the files; `compile` and `run` are the program's own scripts.
    files = judge0.Filesystem(
        content=[
            judge0.File(name="compile", content="g++ -O2 -o count main.cpp\n"),
            judge0.File(name="run", content="./count\n"),
            judge0.File(
                name="main.cpp",
                content="#include <iostream>\n#include <string>\n"
                "int main() { std::string w; std::cin >> w; std::cout << w.size() << '\\n'; }\n",
            ),
        ]
    )
    submission = judge0.Submission(
        source_code="", language=judge0.MULTI_FILE, additional_files=files, stdin="hello", expected_output="5"
    )
    result = await asyncio.to_thread(judge0.run, client=sdk_client, submissions=submission)
    assert result.status == judge0.Status.ACCEPTED, (result.status, result.compile_output, result.stderr)
    assert result.stdout == "5\n"
