"""OpenAPI documentation of ``POST /api/v1/submissions``.

The handler reads the raw body itself (so every validation error has the API's error shape), which
leaves Litestar nothing to infer the request schema from; it is described here instead. The wire-level
truth is :class:`schemas.JobMessage` (``schemas/jsonschema/job.v1.json``).
"""

from dataclasses import dataclass

from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIMediaType, Operation, Parameter, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from api.idempotency.keys import HEADER, MAX_KEY_LENGTH
from api.lib.errors import documented_errors
from schemas.jobs import (
    MAX_ARG_CHARS,
    MAX_ARGS,
    MAX_COMPILE_MEMORY_MB,
    MAX_COMPILE_TIME_MS,
    MAX_COMPILER_OPTIONS,
    MAX_FILE_SIZE_KB,
    MAX_FILES,
    MAX_MEMORY_MB,
    MAX_OUTPUT_KB,
    MAX_PROCESSES,
    MAX_RUNS,
    MAX_STACK_KB,
    MAX_TIME_MS,
)

_STRING = Schema(type=OpenAPIType.STRING)


def _int(maximum: int, description: str) -> Schema:
    return Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=maximum, description=description)


SUBMISSION_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["language"],
    additional_properties=False,
    properties={
        "language": Schema(type=OpenAPIType.STRING, description="A language id from GET /api/v1/languages."),
        "source": Schema(type=OpenAPIType.STRING, min_length=1, description="The program (or source_b64)."),
        "stdin": Schema(type=OpenAPIType.STRING, description="Input of the single run (no tests)."),
        "source_b64": Schema(
            type=OpenAPIType.STRING,
            content_encoding="base64",
            description="The program's exact bytes in Base64, for a source that is not UTF-8.",
        ),
        "stdin_b64": Schema(
            type=OpenAPIType.STRING,
            content_encoding="base64",
            description="The input's exact bytes in Base64, for input that is not UTF-8.",
        ),
        "tests": Schema(
            type=OpenAPIType.ARRAY,
            min_items=1,
            description="Run once per test and compare the output; the verdict is the first failure.",
            items=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "stdin": _STRING,
                    "expected_output": _STRING,
                    "stdin_b64": Schema(type=OpenAPIType.STRING, content_encoding="base64"),
                    "expected_output_b64": Schema(type=OpenAPIType.STRING, content_encoding="base64"),
                },
                description="expected_output (or expected_output_b64) is required.",
            ),
        ),
        "limits": Schema(
            type=OpenAPIType.OBJECT,
            properties={
                "time_ms": _int(MAX_TIME_MS, "CPU time per test (default 2000)."),
                "wall_ms": _int(3 * MAX_TIME_MS, "Wall-clock time per test (default 3 * time_ms)."),
                "memory_mb": _int(MAX_MEMORY_MB, "Peak memory of the process tree (default 256)."),
                "output_kb": _int(MAX_OUTPUT_KB, "stdout and stderr, each (default 64)."),
                "stack_kb": Schema(
                    type=OpenAPIType.INTEGER,
                    minimum=64,
                    maximum=MAX_STACK_KB,
                    description="Stack of each process, KiB (default: the worker's, 8 MiB).",
                ),
                "processes": _int(MAX_PROCESSES, "Processes and threads at once (default 256)."),
                "file_size_kb": _int(
                    MAX_FILE_SIZE_KB,
                    "Largest file the program may write, KiB (default 65536); beyond: output_limit_exceeded.",
                ),
            },
        ),
        "compile_limits": Schema(
            type=OpenAPIType.OBJECT,
            description="The compiler's limits, each at most the language's own (GET /api/v1/languages); "
            "missing: the language's own. Only for compiled languages.",
            properties={
                "time_ms": _int(MAX_COMPILE_TIME_MS, "CPU time of the compiler."),
                "wall_ms": _int(3 * MAX_COMPILE_TIME_MS, "Wall-clock time (default 3 * time_ms)."),
                "memory_mb": _int(MAX_COMPILE_MEMORY_MB, "Peak memory of the compiler."),
            },
        ),
        "args": Schema(
            type=OpenAPIType.ARRAY,
            max_items=MAX_ARGS,
            items=Schema(type=OpenAPIType.STRING, max_length=MAX_ARG_CHARS),
            description="Command-line arguments of the program.",
        ),
        "compiler_options": Schema(
            type=OpenAPIType.ARRAY,
            max_items=MAX_COMPILER_OPTIONS,
            items=_STRING,
            description="Extra compiler flags, each from the language's allow-list (GET /api/v1/languages).",
        ),
        "files": Schema(
            type=OpenAPIType.ARRAY,
            max_items=MAX_FILES,
            description="More files of the program, written beside source (the entry point).",
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["path"],
                properties={
                    "path": Schema(type=OpenAPIType.STRING, description="Relative: no '..', no dot files."),
                    "content": _STRING,
                    "encoding": Schema(type=OpenAPIType.STRING, enum=["utf8", "base64"]),
                },
            ),
        ),
        "redirect_stderr_to_stdout": Schema(type=OpenAPIType.BOOLEAN, description="One output stream."),
        "runs": _int(MAX_RUNS, "Run each test this many times; times and memory are averages."),
        "callback_url": Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.URI,
            description=(
                "A webhook: once finished, the submission (as GET returns it) is POSTed here, signed "
                "(X-Executioner-Signature, docs/webhooks.md). Public addresses only, unless allowed."
            ),
        ),
        "compare": Schema(
            description="How outputs are compared (default trim).",
            one_of=[
                Schema(type=OpenAPIType.STRING, enum=["exact", "trim", "tokens"]),
                Schema(
                    type=OpenAPIType.OBJECT,
                    required=["mode"],
                    properties={
                        "mode": Schema(type=OpenAPIType.STRING, const="float"),
                        "tolerance": Schema(type=OpenAPIType.NUMBER, exclusive_minimum=0, maximum=1),
                    },
                ),
            ],
        ),
        "stop_on_first_failure": Schema(type=OpenAPIType.BOOLEAN),
    },
)


@dataclass
class SubmissionRequestOperation(Operation):
    """The POST operation, with its request body described."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=SUBMISSION_SCHEMA)},
            required=True,
            description="The program to run, with its input or tests.",
        )
        self.parameters = [
            *(self.parameters or []),
            Parameter(
                name="wait",
                param_in=ParamType.QUERY,
                required=False,
                schema=Schema(type=OpenAPIType.BOOLEAN),
                description=(
                    "true: wait for the result, at most EXECUTIONER_COMPAT_WAIT_S; 200 with the finished "
                    "submission (as GET returns it, plus events), or 202 as without wait when it runs out."
                ),
            ),
            Parameter(
                name=HEADER,
                param_in=ParamType.HEADER,
                required=False,
                schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_KEY_LENGTH),
                description=(
                    "A fresh value (a UUID, quoted or not) per submission, sent again on every retry of it: "
                    "a retry within 24 h is answered like the first request (202, the same id) instead of "
                    "running the program twice. The same key with another body is refused (422); while "
                    "the first request is still being processed, a retry gets 409."
                ),
            ),
        ]


AUTH_ERRORS = {
    401: "EXECUTIONER_AUTH=keys: no key, an unknown key, or a revoked or expired one.",
    403: "The key lacks the route's scope, or the share link is invalid or expired.",
}
"""The answers of the submitter-key guard (api.keys.guard)."""

ERROR_RESPONSES = documented_errors(
    {
        **AUTH_ERRORS,
        429: "A limit of the key is reached (body: limit; headers: Retry-After, RateLimit-*).",
        400: "The body is not JSON, or the Idempotency-Key header is malformed.",
        409: "A request with this Idempotency-Key is still being processed; retry it.",
        413: "source, stdin, a test or the whole job is too large.",
        415: "The body is not declared JSON (content-type application/json).",
        422: "A field is missing or invalid (see error.field), or the Idempotency-Key was used for "
        "another submission.",
    }
)
