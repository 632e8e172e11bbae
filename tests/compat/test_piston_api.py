"""The Piston v2 API over raw HTTP, on the real cluster: runtimes, aliases and version ranges, the
compile stage, timeouts, and Piston's 400 ``{"message"}`` for bad requests."""

from typing import Any

import httpx
import pytest

from tests.fixtures.cluster import Cluster

pytestmark = pytest.mark.e2e


@pytest.fixture
async def piston(cluster: Cluster) -> Any:
    async with httpx.AsyncClient(base_url=f"{cluster.api_url}/api/v2", timeout=120) as http:
        yield http


def execute_body(language: str, content: str, **extra: Any) -> dict[str, Any]:
    return {"language": language, "version": "*", "files": [{"name": "main", "content": content}], **extra}


async def test_runtimes_name_languages_versions_and_aliases(piston: httpx.AsyncClient) -> None:
    runtimes = {r["language"]: r for r in (await piston.get("/runtimes")).json()}
    assert {"python", "c++", "c", "java", "javascript", "go", "rust"} <= set(runtimes)
    assert "py" in runtimes["python"]["aliases"] and "cpp" in runtimes["c++"]["aliases"]
    assert runtimes["python"]["version"].startswith("3.")


async def test_an_alias_and_a_version_range_run_the_program(piston: httpx.AsyncClient) -> None:
    version = next(r for r in (await piston.get("/runtimes")).json() if r["language"] == "python")["version"]
    major = version.split(".")[0]
    for path, language, wanted in (("/execute", "py", f"{major}.x"), ("/execute/", "python3", version)):
        body = {**execute_body(language, "print(input().upper())", stdin="abc"), "version": wanted}
        reply = await piston.post(path, json=body)
        assert reply.status_code == 200, reply.text
        result = reply.json()
        assert result["language"] == "python" and result["version"] == version
        assert result["run"]["stdout"] == "ABC\n" and result["run"]["code"] == 0
        assert result["run"]["status"] is None and result["run"]["output"] == "ABC\n"
        assert "compile" not in result
    unknown = await piston.post("/execute", json={**execute_body("python", "print(1)"), "version": "2.7"})
    assert unknown.status_code == 400 and unknown.json() == {"message": "python-2.7 runtime is unknown"}


async def test_compiled_languages_have_a_compile_stage(piston: httpx.AsyncClient) -> None:
    ok = (
        await piston.post("/execute", json=execute_body("c++", '#include <cstdio>\nint main(){puts("c");}'))
    ).json()
    assert ok["compile"]["code"] == 0 and ok["run"]["stdout"] == "c\n"
    broken = (await piston.post("/execute", json=execute_body("gcc", "int main(){return z;}"))).json()
    assert broken["compile"]["code"] != 0 and "z" in broken["compile"]["stderr"]
    assert broken["compile"]["status"] == "RE" and "run" not in broken


async def test_run_limits_map_to_the_jobs_limits(piston: httpx.AsyncClient) -> None:
    # A wall limit far above the CPU limit, so that the CPU limit ends the run even on a busy machine.
    spin = execute_body("python", "while True: pass", run_cpu_time=500, run_timeout=9000)
    result = (await piston.post("/execute", json=spin)).json()
    assert result["run"]["status"] == "TO" and result["run"]["signal"] == "SIGKILL"
    assert 500 <= result["run"]["cpu_time"] < 2000 and result["run"]["wall_time"] < 9000
    crash = (await piston.post("/execute", json=execute_body("js", "process.exit(3)"))).json()
    assert (crash["run"]["status"], crash["run"]["code"]) == ("RE", 3)


SQUARE = '#include "sq.h"\n#include <cstdio>\nint main() { printf("%d\\n", sq(7)); }'


async def test_several_files_and_arguments(piston: httpx.AsyncClient) -> None:
    body = {
        "language": "python", "version": "*", "args": ["x y", "--z"],
        "files": [
            {"name": "main.py", "content": "import sys, lib\nprint(lib.joined(sys.argv[1:]))"},
            {"name": "lib.py", "content": "def joined(a):\n    return '|'.join(a)\n"},
            {"name": "blob", "content": "00ff", "encoding": "hex"},
        ],
    }  # fmt: skip
    result = (await piston.post("/execute", json=body)).json()
    assert result["run"]["stdout"] == "x y|--z\n", result
    cpp = {
        "language": "c++", "version": "*",
        "files": [
            {"name": "main.cpp", "content": SQUARE},
            {"name": "sq.h", "content": "inline int sq(int n) { return n * n; }\n"},
        ],
    }  # fmt: skip
    compiled = (await piston.post("/execute", json=cpp)).json()
    assert compiled["compile"]["code"] == 0 and compiled["run"]["stdout"] == "49\n", compiled


# Writes to stdout and stderr in turn, each once the worker has read the one before (the pipe holds no
# unread byte), so the order the worker sees is the order written.
ALTERNATING = r"""
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
static void drained(FILE *stream) {
    fflush(stream);
    struct timespec ms = {0, 1000000};
    for (int unread = 1; unread; nanosleep(&ms, NULL)) ioctl(fileno(stream), FIONREAD, &unread);
}
int main(void) {
    for (int i = 0; i < 3; i++) {
        fprintf(stdout, "o%d ", i); drained(stdout);
        fprintf(stderr, "e%d ", i); drained(stderr);
    }
    return 0;
}
"""


async def test_output_interleaves_stdout_and_stderr_as_written(piston: httpx.AsyncClient) -> None:
    result = (await piston.post("/execute", json=execute_body("c", ALTERNATING))).json()
    assert result["run"]["stdout"] == "o0 o1 o2 " and result["run"]["stderr"] == "e0 e1 e2 ", result
    assert result["run"]["output"] == "o0 e0 o1 e1 o2 e2 "


# Every header of libstdc++: seconds of g++'s CPU time.
SLOW_TO_COMPILE = "#include <bits/stdc++.h>\nint main() { std::cout << 1 << std::endl; }"


async def test_compile_limits_bound_the_compile_stage(piston: httpx.AsyncClient) -> None:
    tight = (
        await piston.post("/execute", json=execute_body("c++", SLOW_TO_COMPILE, compile_cpu_time=300))
    ).json()
    assert tight["compile"]["status"] == "TO" and "run" not in tight, tight
    assert tight["compile"]["wall_time"] < 5000, tight  # the request's 300 ms, not the runtime's 15 s
    small = '#include <cstdio>\nint main() { std::puts("1"); }'
    roomy = execute_body("c++", small, compile_cpu_time=10_000, compile_timeout=40_000)
    fine = (await piston.post("/execute", json=roomy)).json()
    assert fine["compile"]["code"] == 0 and fine["run"]["stdout"] == "1\n", str(fine)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"language": 5}, "language is required as a string"),
        ({"version": None}, "version is required as a string"),
        ({"files": [{"content": "x"}, {"name": "../y", "content": "y"}]}, "files[1].name"),
        ({"files": [{"content": "x"}, {"name": "main.py", "content": "y"}]}, "files[1].name"),
        ({"files": [{"content": "x", "encoding": "utf16"}]}, "files[0].encoding"),
        ({"args": ["a\u0000"]}, "args[0]"),
        ({"stdin": ["x"]}, "stdin is required as a string"),
        ({"run_timeout": 10**9}, "run_timeout cannot exceed"),
        ({"run_memory_limit": "lots"}, "run_memory_limit must be a number"),
        (
            {"language": "c++", "compile_cpu_time": 10**6},
            "compile_cpu_time cannot exceed the configured limit",
        ),
        ({"language": "c++", "compile_memory_limit": 2**40}, "compile_memory_limit cannot exceed"),
    ],
)
async def test_bad_requests_get_pistons_400_naming_the_field(
    piston: httpx.AsyncClient, change: dict[str, Any], says: str
) -> None:
    reply = await piston.post("/execute", json={**execute_body("python", "print(1)"), **change})
    assert reply.status_code == 400, reply.text
    assert set(reply.json()) == {"message"} and says in reply.json()["message"]
