"""The Judge0 API over raw HTTP, on the real cluster: wait, fields, Base64, batches, statuses by signal,
delete, the informational routes, and a refusal naming the field for bad input."""

import base64
import io
import zipfile
from typing import Any

import httpx
import pytest

from api.compat.judge0.views import NOT_UTF8
from tests.fixtures.cluster import Cluster
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.e2e

ADMIN = {"authorization": "Bearer test-admin-token"}


@pytest.fixture
async def judge0(cluster: Cluster) -> Any:
    async with httpx.AsyncClient(base_url=f"{cluster.api_url}/judge0", timeout=120) as http:
        yield http


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def finished(
    judge0: httpx.AsyncClient, path: str, params: dict[str, str], within_s: float = 120
) -> Any:
    """Poll as a Judge0 client without ``wait`` does, until nothing is queued or processing."""

    async def probe() -> Any:
        view = (await judge0.get(path, params=params)).json()
        views = view.get("submissions", [view])
        return None if any(v and v["status_id"] in (1, 2) for v in views) else view

    return await eventually(probe, within_s=within_s)


async def run(judge0: httpx.AsyncClient, body: dict[str, Any], **params: str) -> dict[str, Any]:
    reply = await judge0.post("/submissions", json=body, params={"wait": "true", **params})
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def test_wait_returns_the_finished_submission_with_default_fields(judge0: httpx.AsyncClient) -> None:
    result = await run(judge0, {"source_code": "print(input()[::-1])", "language_id": 71, "stdin": "abc"})
    assert set(result) == {
        "stdout",
        "time",
        "memory",
        "stderr",
        "token",
        "compile_output",
        "message",
        "status",
    }
    assert result["status"] == {"id": 3, "description": "Accepted"}
    assert result["stdout"] == "cba\n"
    assert float(result["time"]) >= 0 and result["memory"] > 0
    again = (await judge0.get(f"/submissions/{result['token']}")).json()
    assert again == result


async def test_without_wait_a_token_then_fields_and_base64(judge0: httpx.AsyncClient) -> None:
    body = {"source_code": b64("print('é' + input())"), "language_id": 71, "stdin": b64("x")}
    reply = await judge0.post("/submissions", json=body, params={"base64_encoded": "true"})
    assert reply.status_code == 201 and set(reply.json()) == {"token"}
    token = reply.json()["token"]
    params = {"base64_encoded": "true", "fields": "stdout,status_id,source_code,language_id,stdin"}
    view = await finished(judge0, f"/submissions/{token}", params)
    assert view == {
        "stdout": b64("éx\n"),
        "status_id": 3,
        "source_code": body["source_code"],
        "language_id": 71,
        "stdin": body["stdin"],
    }
    full = (await judge0.get(f"/submissions/{token}", params={"fields": "*"})).json()
    assert full["stdout"] == "éx\n" and full["language"]["id"] == 71 and full["enable_network"] is False
    assert full["finished_at"].endswith("Z") and full["exit_code"] == 0


@pytest.mark.parametrize(
    ("source", "status", "description"),
    [
        ("import os\nos.kill(os.getpid(), 11)", 7, "Runtime Error (SIGSEGV)"),
        ("import os\nos.kill(os.getpid(), 8)", 9, "Runtime Error (SIGFPE)"),
        ("import os\nos.abort()", 10, "Runtime Error (SIGABRT)"),
        ("raise SystemExit(4)", 11, "Runtime Error (NZEC)"),
        ("while True: pass", 5, "Time Limit Exceeded"),
    ],
)
async def test_statuses_split_runtime_errors_by_signal(
    judge0: httpx.AsyncClient, source: str, status: int, description: str
) -> None:
    result = await run(judge0, {"source_code": source, "language_id": 71, "cpu_time_limit": 1})
    assert result["status"] == {"id": status, "description": description}


async def test_expected_output_decides_accepted_or_wrong_answer(judge0: httpx.AsyncClient) -> None:
    body = {"source_code": "print(input())", "language_id": 71, "stdin": "7"}
    assert (await run(judge0, {**body, "expected_output": "7"}))["status"]["id"] == 3
    assert (await run(judge0, {**body, "expected_output": "8"}))["status"]["id"] == 4


async def test_compiled_languages_report_compile_output(judge0: httpx.AsyncClient) -> None:
    ok = await run(judge0, {"source_code": '#include <cstdio>\nint main(){puts("hi");}', "language_id": 54})
    assert ok["status"]["id"] == 3 and ok["stdout"] == "hi\n"
    broken = await run(judge0, {"source_code": "int main(){return y;}", "language_id": 50})
    assert broken["status"]["id"] == 6 and "y" in broken["compile_output"]


async def test_output_that_is_not_utf8_needs_base64(judge0: httpx.AsyncClient) -> None:
    source = "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe')"
    reply = await judge0.post(
        "/submissions", json={"source_code": source, "language_id": 71}, params={"wait": "true"}
    )
    assert reply.status_code == 400
    assert reply.json() == {"error": NOT_UTF8}
    result = await run(judge0, {"source_code": b64(source), "language_id": 71}, base64_encoded="true")
    assert result["status"]["id"] == 3
    assert base64.b64decode(result["stdout"]) == b"\xff\xfe"  # the bytes the program wrote


def zipped(files: dict[str, str]) -> str:
    """A Base64 zip of ``files``, as a Judge0 client sends ``additional_files``."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zip_file:
        for name, text in files.items():
            zip_file.writestr(name, text)
    return base64.b64encode(archive.getvalue()).decode()


async def test_a_multi_file_program_runs_its_compile_and_run_scripts(judge0: httpx.AsyncClient) -> None:
    files = {
        "compile": "gcc -O2 -o greet main.c lib/greeting.c\n",
        "run": 'echo "argument: $1"\n./greet < /dev/stdin\n',
        "main.c": '#include "lib/greeting.h"\nint main(void) { return greet(); }\n',
        "lib/greeting.h": "int greet(void);\n",
        "lib/greeting.c": (
            '#include <stdio.h>\nint greet(void) { char w[16]; scanf("%15s", w); printf("hello %s\\n", w);'
            " return 0; }\n"
        ),
    }
    body = {
        "language_id": 89,
        "additional_files": zipped(files),
        "stdin": "zip",
        "command_line_arguments": "x",
    }
    result = await run(judge0, body, fields="*")
    assert result["status"]["id"] == 3, result
    assert result["stdout"] == "argument: x\nhello zip\n"
    assert (result["language_id"], result["language"]["name"]) == (89, "Multi-file program")
    broken = await run(judge0, {**body, "additional_files": zipped({**files, "main.c": "int main( {"})})
    assert broken["status"]["id"] == 6 and "main.c" in broken["compile_output"]
    refused = await judge0.post("/submissions", json={**body, "additional_files": zipped({"main.c": "x"})})
    assert refused.status_code == 422 and "additional_files" in refused.json(), refused.text
    language = (await judge0.get("/languages/89")).json()
    assert (language["name"], language["run_cmd"]) == ("Multi-file program", "/bin/bash run")


async def test_input_that_is_not_utf8_reaches_the_program_as_its_bytes(judge0: httpx.AsyncClient) -> None:
    # Latin-1 input and expected output; the C program echoes its input and checks a Latin-1 literal.
    source = (
        b"#include <stdio.h>\n"
        b'int main(void){int c; while((c=getchar())!=EOF) putchar(c); return "\xe9"[0]!=(char)0xe9;}'
    )
    body = {
        "source_code": base64.b64encode(source).decode(),
        "language_id": 50,
        "stdin": base64.b64encode(b"caf\xe9").decode(),
        "expected_output": base64.b64encode(b"caf\xe9").decode(),
    }
    result = await run(judge0, body, base64_encoded="true", fields="*")
    assert result["status"]["id"] == 3, result
    assert base64.b64decode(result["stdout"]) == b"caf\xe9"
    assert base64.b64decode(result["source_code"]) == source  # read back as sent
    plain = await judge0.get(f"/submissions/{result['token']}", params={"fields": "stdin"})
    assert plain.status_code == 400 and plain.json() == {"error": NOT_UTF8}
    other = await run(
        judge0, {**body, "expected_output": base64.b64encode(b"caf\xc3\xa9").decode()}, base64_encoded="true"
    )
    assert other["status"]["id"] == 4  # the same text in another encoding is another output


async def test_max_file_size_limits_the_files_a_program_writes(judge0: httpx.AsyncClient) -> None:
    source = (
        '#include <stdio.h>\nint main(void) { FILE *f = fopen("big", "w"); static char b[4096];\n'
        '  for (int i = 0; i < 512; i++) { fwrite(b, 1, sizeof b, f); fflush(f); } puts("done"); }'
    )
    limited = await run(judge0, {"source_code": source, "language_id": 50, "max_file_size": 1024})
    assert limited["status"] == {"id": 8, "description": "Runtime Error (SIGXFSZ)"}, limited
    roomy = await run(
        judge0, {"source_code": source.replace("512", "128"), "language_id": 50, "max_file_size": 1024}
    )
    assert roomy["status"]["id"] == 3 and roomy["stdout"] == "done\n", roomy


async def test_request_features_over_raw_http(judge0: httpx.AsyncClient) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("include/twice.h", "inline int twice(int n) { return 2 * n; }\n")
    source = (
        '#include <cstdio>\n#include "include/twice.h"\n'
        "int main(int argc, char** argv) {\n"
        '  std::printf("%d %s %ld\\n", twice(argc), argv[1], __cplusplus);\n'
        "  std::fflush(stdout);  // a pipe is block-buffered: flushed first, the order is fixed\n"
        '  std::fprintf(stderr, "err\\n");\n}'
    )
    body = {
        "source_code": source, "language_id": 54, "compiler_options": "-std=c++20 -O0",
        "command_line_arguments": "'a b' c", "redirect_stderr_to_stdout": True,
        "additional_files": base64.b64encode(archive.getvalue()).decode(), "stack_limit": 32000,
        "max_processes_and_or_threads": 10,
    }  # fmt: skip
    created = await judge0.post("/submissions", json=body)
    assert created.status_code == 201, created.text
    # Polled as Judge0 clients do, for longer than one wait: run first on a fresh cluster, this waits
    # for the C++ workers to start on a busy machine too.
    fields = (
        "stdout,stderr,status,status_id,compiler_options,command_line_arguments,stack_limit,"
        "max_processes_and_or_threads,redirect_stderr_to_stdout"
    )
    result = await finished(judge0, f"/submissions/{created.json()['token']}", {"fields": fields}, 400)
    assert result["status"]["id"] == 3, result
    assert result["stdout"] == "6 a b 202002\nerr\n" and result["stderr"] is None
    assert (result["compiler_options"], result["command_line_arguments"]) == ("-std=c++20 -O0", "'a b' c")
    assert (result["stack_limit"], result["max_processes_and_or_threads"]) == (32000, 10)
    refused = await judge0.post(
        "/submissions", json={**body, "compiler_options": "-O2 -fplugin=/tmp/evil.so"}
    )
    assert refused.status_code == 422 and "-fplugin" in refused.json()["compiler_options"][0]
    sneaky = io.BytesIO()
    with zipfile.ZipFile(sneaky, "w") as zipped:
        zipped.writestr("../../etc/x", "x")
    refused = await judge0.post(
        "/submissions", json={**body, "additional_files": base64.b64encode(sneaky.getvalue()).decode()}
    )
    assert refused.status_code == 422 and list(refused.json()) == ["additional_files"]


async def test_batches_create_and_read_in_order_with_errors_per_item(judge0: httpx.AsyncClient) -> None:
    items = [
        {"source_code": "print(1)", "language_id": 71},
        {"source_code": "print(2)", "language_id": 9999},
        {"source_code": "console.log(3)", "language_id": 63},
    ]
    reply = await judge0.post("/submissions/batch", json={"submissions": items})
    assert reply.status_code == 201
    created = reply.json()
    assert created[1] == {"language_id": ["language with id 9999 doesn't exist"]}
    tokens = [created[0]["token"], "00000000-0000-4000-8000-000000000000", created[2]["token"]]
    params = {"tokens": ",".join(tokens), "fields": "stdout,status_id"}
    views = (await finished(judge0, "/submissions/batch", params))["submissions"]
    assert views == [{"stdout": "1\n", "status_id": 3}, None, {"stdout": "3\n", "status_id": 3}]
    too_many = await judge0.post("/submissions/batch", json={"submissions": items * 7})
    assert too_many.status_code == 422 and "submissions" in too_many.json()


async def test_delete_needs_the_admin_token_and_a_finished_submission(judge0: httpx.AsyncClient) -> None:
    token = (await run(judge0, {"source_code": "print(5)", "language_id": 71}))["token"]
    assert (await judge0.delete(f"/submissions/{token}")).status_code == 401
    deleted = await judge0.delete(f"/submissions/{token}", headers=ADMIN)
    assert deleted.status_code == 200 and deleted.json()["stdout"] == "5\n"
    assert (await judge0.get(f"/submissions/{token}")).status_code == 404
    assert (await judge0.delete(f"/submissions/{token}", headers=ADMIN)).status_code == 404


async def test_informational_routes(judge0: httpx.AsyncClient) -> None:
    languages = (await judge0.get("/languages")).json()
    assert {71, 54, 50, 62, 63, 60, 73} <= {language["id"] for language in languages}
    java = (await judge0.get("/languages/62")).json()
    assert java["source_file"] == "Main.java" and java["is_archived"] is False
    assert (await judge0.get("/languages/1")).status_code == 404
    statuses = (await judge0.get("/statuses")).json()
    assert statuses[6] == {"id": 7, "description": "Runtime Error (SIGSEGV)"} and len(statuses) == 14
    assert (await judge0.get("/about")).json()["version"] == "1.13.1"
    assert (await judge0.get("/version")).text == "1.13.1"
    config = (await judge0.get("/config_info")).json()
    assert (
        config["enable_wait_result"] and not config["enable_network"] and config["max_cpu_time_limit"] == 10
    )
    assert "Architecture" in (await judge0.get("/system_info")).json()
    assert (await judge0.get("/workers")).status_code == 401
    workers = (await judge0.get("/workers", headers=ADMIN)).json()
    python = next(w for w in workers if w["queue"] == "python")
    assert python["available"] >= 1 and set(python) >= {"idle", "working", "paused", "failed"}


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("enable_network", True, 422),
        ("compiler_options", "-O3", 422),  # python has no compiler: no option is allowed
        ("command_line_arguments", "'unclosed", 422),
        ("number_of_runs", 21, 422),
        ("additional_files", "bm90IGEgemlw", 422),
        ("stack_limit", 10**6, 422),
        ("callback_url", "http://example.test/", 422),
        ("language_id", None, 422),
        ("source_code", "x" * 2_000_000, 413),
        ("memory_limit", 0, 422),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    judge0: httpx.AsyncClient, field: str, value: Any, status: int
) -> None:
    body = {"source_code": "print(1)", "language_id": 71, field: value}
    reply = await judge0.post("/submissions", json=body)
    assert reply.status_code == status, reply.text
    assert list(reply.json()) == [field], reply.text


async def test_bad_query_parameters_are_refused_by_name(judge0: httpx.AsyncClient) -> None:
    body = {"source_code": "print(1)", "language_id": 71}
    reply = await judge0.post("/submissions", json=body, params={"wait": "maybe"})
    assert reply.status_code == 422 and "wait" in reply.json()
    reply = await judge0.get("/submissions/00000000-0000-4000-8000-000000000000", params={"fields": "x"})
    assert reply.status_code == 422 and "fields" in reply.json()
    assert (await judge0.get("/submissions/not-a-token")).json() == {"error": "Not Found"}
