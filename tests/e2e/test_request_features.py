"""The request features of ``POST /api/v1/submissions`` through the whole cluster (API, Kafka, worker
containers, the real sandbox): arguments, compiler options from the allow-list, multi-file programs,
stderr into stdout, repeated runs, raw output bytes, the stack and process limits, and a 4xx naming the
field for each kind of bad value."""

import asyncio
import base64
from typing import Any

import httpx
import pytest

from tests.e2e.sse import read_events

pytestmark = pytest.mark.e2e


async def run(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    """Submit ``body``, follow its stream to the result, and return the stored submission."""
    reply = await client.post("/api/v1/submissions", json=body)
    assert reply.status_code == 202, reply.text
    await asyncio.wait_for(read_events(client, reply.json()["events"]), 180)
    finished: dict[str, Any] = (await client.get(f"/api/v1/submissions/{reply.json()['id']}")).json()
    assert finished["status"] == "finished", finished
    return finished


async def test_a_multi_file_program_with_arguments(client: httpx.AsyncClient) -> None:
    files = [
        {"path": "shout/__init__.py", "content": "def shout(s):\n    return s.upper() + '!'\n"},
        {
            "path": "data/bytes.bin",
            "content": base64.b64encode(b"\x00\x01\xfe").decode(),
            "encoding": "base64",
        },
    ]
    source = (
        "import sys\nfrom shout import shout\n"
        "print(shout(' '.join(sys.argv[1:])), list(open('data/bytes.bin', 'rb').read()))"
    )
    done = await run(client, language="python", source=source, files=files, args=["two words", "$HOME"])
    assert done["verdict"] == "accepted", done
    assert done["stdout"] == "TWO WORDS $HOME! [0, 1, 254]\n"
    assert done["submitted"]["files"] == ["shout/__init__.py", "data/bytes.bin"]
    assert done["submitted"]["args"] == ["two words", "$HOME"]


async def test_allowed_compiler_options_reach_the_compiler(client: httpx.AsyncClient) -> None:
    source = '#include <cstdio>\nint main() { std::printf("%ld\\n", __cplusplus); }'
    default = await run(client, language="cpp", source=source)
    assert default["stdout"] == "202002\n"  # the runtime's own -std=c++20
    older = await run(client, language="cpp", source=source, compiler_options=["-std=c++17", "-O0"])
    assert older["verdict"] == "accepted", older
    assert older["stdout"] == "201703\n"


async def test_stderr_into_stdout_and_repeated_runs(client: httpx.AsyncClient) -> None:
    source = "import sys\nprint('out', flush=True)\nprint('err', file=sys.stderr, flush=True)\nprint('end')"
    merged = await run(client, language="python", source=source, redirect_stderr_to_stdout=True)
    assert (merged["stdout"], merged["stderr"]) == ("out\nerr\nend\n", "")
    counting = "f = open('/tmp/n', 'a+'); f.write('x'); f.seek(0); print(len(f.read()))"
    repeated = await run(client, language="python", source=counting, runs=3)
    assert repeated["stdout"] == "3\n"  # one scratch directory, three runs in it


async def test_output_that_is_not_utf8_comes_back_as_its_bytes(client: httpx.AsyncClient) -> None:
    source = "import sys; sys.stdout.buffer.write(b'\\xff\\xfeok')"
    done = await run(client, language="python", source=source)
    assert base64.b64decode(done["stdout_b64"]) == b"\xff\xfeok"
    assert done["stderr_b64"] is None


async def test_stack_and_process_limits_inside_the_sandbox(client: httpx.AsyncClient) -> None:
    source = "import resource as r; print(r.getrlimit(r.RLIMIT_STACK)[0], r.getrlimit(r.RLIMIT_NPROC)[0])"
    done = await run(client, language="python", source=source, limits={"stack_kb": 4096, "processes": 12})
    assert done["stdout"] == f"{4096 * 1024} 12\n"
    fork = (
        "import os, time\n"
        "for _ in range(20):\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(2)\n"
        "        os._exit(0)"
    )
    bomb = await run(client, language="python", source=fork, limits={"processes": 4})
    assert bomb["verdict"] == "runtime_error"
    assert "BlockingIOError" in bomb["stderr"] or "Resource temporarily unavailable" in bomb["stderr"]


# Every header of libstdc++: seconds of g++'s CPU time, far over 300 ms.
SLOW_TO_COMPILE = """
#include <bits/stdc++.h>
int main() { std::vector<int> v{3, 1, 2}; std::sort(v.begin(), v.end()); std::cout << v[0] << std::endl; }
"""


async def test_compile_limits_bound_the_compiler(client: httpx.AsyncClient) -> None:
    tight = await run(client, language="cpp", source=SLOW_TO_COMPILE, compile_limits={"time_ms": 300})
    assert tight["verdict"] == "compilation_error", tight
    assert tight["compile"]["verdict"] == "time_limit_exceeded", tight["compile"]
    # Ended by the job's 300 ms (900 ms of wall time), not by the runtime's own 15 s (45 s).
    assert tight["compile"]["wall_ms"] < 5000, tight["compile"]
    small = '#include <cstdio>\nint main() { std::puts("1"); }'
    fits = await run(
        client, language="cpp", source=small, compile_limits={"time_ms": 10_000, "wall_ms": 40_000}
    )
    assert (fits["verdict"], fits["stdout"]) == ("accepted", "1\n"), str(fits)


async def test_a_file_larger_than_file_size_kb_ends_the_program(client: httpx.AsyncClient) -> None:
    source = (
        "#include <stdio.h>\n"
        'int main(void) { FILE *f = fopen("big", "w"); static char block[4096];\n'
        "  for (int i = 0; i < 1024; i++) { fwrite(block, 1, sizeof block, f); fflush(f); }\n"
        '  puts("wrote 4 MiB"); return 0; }'
    )
    limited = await run(client, language="c", source=source, limits={"file_size_kb": 1024})
    assert limited["verdict"] == "output_limit_exceeded", limited
    assert limited["signal"] == "SIGXFSZ", limited
    unlimited = await run(client, language="c", source=source)
    assert (unlimited["verdict"], unlimited["stdout"]) == ("accepted", "wrote 4 MiB\n"), unlimited


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"args": ["a\u0000b"]}, 422, "args.0"),
        ({"args": "--flag"}, 422, "args"),
        ({"compiler_options": ["-O2"]}, 422, "compiler_options.0"),  # python has no compiler
        ({"language": "cpp", "compiler_options": ["-fplugin=/tmp/x.so"]}, 422, "compiler_options.0"),
        ({"language": "cpp", "compiler_options": ["-O2", "-B/tmp"]}, 422, "compiler_options.1"),
        ({"files": [{"path": "../etc/passwd", "content": "x"}]}, 422, "files.0.path"),
        ({"files": [{"path": "/etc/passwd", "content": "x"}]}, 422, "files.0.path"),
        ({"files": [{"path": "main.py", "content": "x"}]}, 422, "files.0.path"),
        ({"files": [{"path": "a", "content": "@", "encoding": "base64"}]}, 422, "files.0.content"),
        ({"files": [{"path": "big", "content": "x" * 600_000}]}, 413, "files"),
        ({"runs": 0}, 422, "runs"),
        ({"runs": 21}, 422, "runs"),
        ({"redirect_stderr_to_stdout": "maybe"}, 422, "redirect_stderr_to_stdout"),
        ({"limits": {"processes": 100_000}}, 422, "limits.processes"),
        ({"limits": {"stack_kb": 1}}, 422, "limits.stack_kb"),
        ({"limits": {"file_size_kb": 0}}, 422, "limits.file_size_kb"),
        ({"limits": {"file_size_kb": 10**6}}, 422, "limits.file_size_kb"),
        ({"compile_limits": {"time_ms": 1000}}, 422, "compile_limits"),  # python is not compiled
        ({"language": "cpp", "compile_limits": {"time_ms": 15_001}}, 422, "compile_limits.time_ms"),
        ({"language": "cpp", "compile_limits": {"memory_mb": 1024}}, 422, "compile_limits.memory_mb"),
        ({"language": "cpp", "compile_limits": {"wall_ms": 0}}, 422, "compile_limits.wall_ms"),
    ],
)
async def test_bad_values_are_refused_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], status: int, field: str
) -> None:
    body = {"language": "python", "source": "print(1)", **change}
    reply = await client.post("/api/v1/submissions", json=body)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["field"] == field, reply.text
