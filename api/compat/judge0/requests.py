"""Judge0 submission requests: the query parameters and the body, checked field by field and turned
into a native ``POST /api/v1/submissions`` body. Every refusal names the Judge0 field."""

import base64
import binascii
import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.compat.errors import judge0_field_error
from api.compat.judge0.archives import take_run_script, unpack_additional_files
from api.compat.judge0.catalog import DEFAULTS, MULTI_FILE_ID, UNSUPPORTED_DEFAULTS
from common.runtimes import Runtime
from schemas.encoded import text_and_base64

DEFAULT_FIELDS = ("stdout", "time", "memory", "stderr", "token", "compile_output", "message", "status")
"""What GET returns without ``fields`` (Judge0's default)."""

ALL_FIELDS = (
    "source_code", "language_id", "stdin", "expected_output", "stdout", "status_id", "created_at",
    "finished_at", "time", "memory", "stderr", "token", "number_of_runs", "cpu_time_limit",
    "cpu_extra_time", "wall_time_limit", "memory_limit", "stack_limit", "max_processes_and_or_threads",
    "enable_per_process_and_thread_time_limit", "enable_per_process_and_thread_memory_limit",
    "max_file_size", "compile_output", "exit_code", "exit_signal", "message", "wall_time",
    "compiler_options", "command_line_arguments", "redirect_stderr_to_stdout", "callback_url",
    "additional_files", "enable_network", "status", "language",
)  # fmt: skip
"""Every attribute of a Judge0 submission, in Judge0's order (``fields=*``)."""

_TEXT_FIELDS = ("source_code", "stdin", "expected_output")
_LIMIT_FIELDS = ("cpu_time_limit", "wall_time_limit", "memory_limit", "max_file_size")
_RUN_FIELDS = (
    "compiler_options", "command_line_arguments", "redirect_stderr_to_stdout", "number_of_runs",
    "stack_limit", "max_processes_and_or_threads", "additional_files", "callback_url",
)  # fmt: skip
REQUEST_FIELDS = frozenset(
    {"language_id", *_TEXT_FIELDS, *_LIMIT_FIELDS, *_RUN_FIELDS, "enable_network", *UNSUPPORTED_DEFAULTS}
)


def query_flag(params: Mapping[str, str], name: str) -> bool:
    """A ``true``/``false`` query parameter (absent: false)."""
    value = params.get(name)
    if value is None or value.lower() == "false":
        return False
    if value.lower() == "true":
        return True
    raise judge0_field_error(name, "must be true or false")


def query_fields(params: Mapping[str, str]) -> tuple[str, ...]:
    """The attributes ``fields`` asks for: ``*`` all, a comma-separated list, or the default ones."""
    value = params.get("fields")
    if value is None or not value.strip():
        return DEFAULT_FIELDS
    if value.strip() == "*":
        return ALL_FIELDS
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in ALL_FIELDS]
    if unknown:
        raise judge0_field_error("fields", f"unknown submission attribute {unknown[0]!r}")
    return names


def _text(data: Mapping[str, Any], name: str, base64_encoded: bool) -> tuple[str, str | None] | None:
    """A text attribute: as text, and (``base64_encoded``, bytes that are not UTF-8) as its exact bytes
    in Base64 too, which the native job carries in its ``_b64`` field."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise judge0_field_error(name, "must be a string")
    if not base64_encoded:
        return value, None
    try:
        raw = base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        raise judge0_field_error(name, "is not valid Base64 (base64_encoded=true)") from None
    return text_and_base64(raw)


def _texts(native: dict[str, Any], name: str, text: tuple[str, str | None] | None) -> None:
    """Put ``text`` (from :func:`_text`) in ``native`` as ``name`` and, for bytes, ``name_b64``."""
    if text is None:
        return
    native[name] = text[0]
    if text[1] is not None:
        native[f"{name}_b64"] = text[1]


def _program(
    data: Mapping[str, Any], runtime: Runtime, base64_encoded: bool
) -> tuple[str, str | None] | None:
    """``source_code`` as the runtime takes it. A runtime whose program is bytes (Executable) takes it as
    Base64: sent Base64-encoded, as Judge0 asks of binaries, it is passed on as it is; sent as text, the
    text is the program (a script with a ``#!`` line)."""
    if runtime.source_encoding == "utf8":
        return _text(data, "source_code", base64_encoded)
    value = data.get("source_code")
    if value is None or not isinstance(value, str):
        return _text(data, "source_code", False)  # None, or the error that it is not a string
    if not base64_encoded:
        return base64.b64encode(value.encode()).decode(), None
    if runtime.program_bytes(value.encode()) is None:
        raise judge0_field_error("source_code", "is not valid Base64 (base64_encoded=true)")
    return value, None


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _number(data: Mapping[str, Any], name: str, maximum: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise judge0_field_error(name, "is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise judge0_field_error(name, "is not a number")
    if value <= 0:
        raise judge0_field_error(name, "must be greater than 0")
    if value > maximum:
        raise judge0_field_error(name, f"must be less than or equal to {_plain(maximum)}")
    return float(value)


def _is_default(value: object, default: object) -> bool:
    if isinstance(default, bool):
        return value is default
    if isinstance(default, int | float):
        return not isinstance(value, bool) and isinstance(value, int | float) and value == default
    return value == default


def _check_unsupported(data: Mapping[str, Any]) -> None:
    if data.get("enable_network") not in (None, False):
        raise judge0_field_error(
            "enable_network", "cannot be enabled: Executioner never gives a job a network"
        )
    for name, default in UNSUPPORTED_DEFAULTS.items():
        value = data.get(name)
        if value is not None and not _is_default(value, default):
            raise judge0_field_error(
                name,
                f"is not supported yet by Executioner: only {default!r} (Judge0's default) or null "
                "is accepted",
            )


def _words(data: Mapping[str, Any], name: str) -> list[str]:
    """A command-line string split as a shell splits words (quotes group, nothing is expanded: no
    variables, globs or substitutions)."""
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, str):
        raise judge0_field_error(name, "must be a string")
    try:
        return shlex.split(value)
    except ValueError as exc:
        raise judge0_field_error(name, f"cannot be split into arguments: {exc}") from None


def _count(data: Mapping[str, Any], name: str, maximum: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise judge0_field_error(name, "is not an integer")
    if value <= 0:
        raise judge0_field_error(name, "must be greater than 0")
    if value > maximum:
        raise judge0_field_error(name, f"must be less than or equal to {maximum}")
    return value


def _run_options(data: Mapping[str, Any], max_files_bytes: int) -> dict[str, Any]:
    """The native run options of a Judge0 submission: arguments, compiler flags, other files, stderr
    into stdout and repeated runs, each only when asked for."""
    options: dict[str, Any] = {}
    if args := _words(data, "command_line_arguments"):
        options["args"] = args
    if flags := _words(data, "compiler_options"):
        options["compiler_options"] = flags
    redirect = data.get("redirect_stderr_to_stdout")
    if redirect is not None and not isinstance(redirect, bool):
        raise judge0_field_error("redirect_stderr_to_stdout", "must be true or false")
    if redirect:
        options["redirect_stderr_to_stdout"] = True
    runs = _count(data, "number_of_runs", DEFAULTS.max_number_of_runs)
    if runs is not None and runs != 1:
        options["runs"] = runs
    archive = data.get("additional_files")
    if archive is not None and archive != "":
        if not isinstance(archive, str):
            raise judge0_field_error("additional_files", "must be a string (Base64 of a zip archive)")
        options["files"] = unpack_additional_files(archive, max_files_bytes)
    if data.get("callback_url") not in (None, ""):
        options["callback_url"] = data["callback_url"]  # checked when submitted (the SSRF guard)
    return options


@dataclass(frozen=True, slots=True)
class Judge0Submission:
    """A valid Judge0 submission, as the native request that runs it."""

    runtime: Runtime
    native: dict[str, Any]


def parse_judge0_submission(
    data: object, languages: Mapping[int, Runtime], base64_encoded: bool, max_files_bytes: int = 0
) -> Judge0Submission:
    """Check one Judge0 submission body and translate it. With ``expected_output`` the program runs as
    one native test (compared as ``trim``: trailing whitespace ignored, as Judge0 does); without, as one
    plain run on ``stdin``. ``additional_files`` may unpack to ``max_files_bytes`` at most."""
    if not isinstance(data, dict):
        raise judge0_field_error("submission", "must be a JSON object")
    for name in data:
        if name not in REQUEST_FIELDS:
            raise judge0_field_error(name, "is not a Judge0 submission attribute")
    language_id = data.get("language_id")
    if language_id is None:
        raise judge0_field_error("language_id", "can't be blank")
    if isinstance(language_id, bool) or not isinstance(language_id, int) or language_id not in languages:
        raise judge0_field_error("language_id", f"language with id {language_id} doesn't exist")
    _check_unsupported(data)
    runtime = languages[language_id]
    source = _program(data, runtime, base64_encoded)
    multi_file = language_id == MULTI_FILE_ID
    if not multi_file and (not source or not source[0]):
        raise judge0_field_error("source_code", "can't be blank")
    stdin = _text(data, "stdin", base64_encoded) or ("", None)
    expected = _text(data, "expected_output", base64_encoded)
    cpu = _number(data, "cpu_time_limit", DEFAULTS.max_cpu_time_limit) or DEFAULTS.cpu_time_limit
    wall = _number(data, "wall_time_limit", DEFAULTS.max_wall_time_limit) or DEFAULTS.wall_time_limit
    memory = _number(data, "memory_limit", DEFAULTS.max_memory_limit) or DEFAULTS.memory_limit
    files = _number(data, "max_file_size", DEFAULTS.max_file_size) or DEFAULTS.max_file_size
    stack = _count(data, "stack_limit", DEFAULTS.max_stack_limit) or DEFAULTS.stack_limit
    processes = _count(data, "max_processes_and_or_threads", DEFAULTS.max_max_processes_and_or_threads)
    limits = {
        "time_ms": math.ceil(cpu * 1000),
        "wall_ms": math.ceil(wall * 1000),
        "memory_mb": math.ceil(memory / 1024),
        "output_kb": math.ceil(files),
        "file_size_kb": math.ceil(files),  # Judge0's isolate limits every file, stdout among them
        "stack_kb": max(64, stack),
    }
    if processes is not None:
        # Only when asked: the workers' default (256) lets a JVM start its threads; Judge0's 60 may not.
        limits["processes"] = processes
    native: dict[str, Any] = {"language": runtime.id, "limits": limits, **_run_options(data, max_files_bytes)}
    if multi_file:  # its run script (the job's source) and compile script are in additional_files
        source = take_run_script(native)
    _texts(native, "source", source)
    if expected is None:
        _texts(native, "stdin", stdin)
    else:
        test: dict[str, Any] = {}
        _texts(test, "stdin", stdin)
        _texts(test, "expected_output", expected)
        native["tests"] = [test]
    return Judge0Submission(runtime, native)


NATIVE_TO_JUDGE0_FIELD = {
    "source": "source_code",
    "source_b64": "source_code",
    "stdin": "stdin",
    "stdin_b64": "stdin",
    "tests.0.stdin": "stdin",
    "tests.0.stdin_b64": "stdin",
    "tests.0.expected_output": "expected_output",
    "tests.0.expected_output_b64": "expected_output",
    "limits.time_ms": "cpu_time_limit",
    "limits.wall_ms": "wall_time_limit",
    "limits.memory_mb": "memory_limit",
    "limits.output_kb": "max_file_size",
    "limits.file_size_kb": "max_file_size",
    "limits.stack_kb": "stack_limit",
    "limits.processes": "max_processes_and_or_threads",
    "args": "command_line_arguments",
    "compiler_options": "compiler_options",
    "files": "additional_files",
    "runs": "number_of_runs",
    "redirect_stderr_to_stdout": "redirect_stderr_to_stdout",
    "callback_url": "callback_url",
}
"""The Judge0 field behind each native field a native refusal can name."""


def judge0_field(native_field: str | None) -> str:
    """The Judge0 field a native refusal of ``native_field`` is about (``compiler_options.2`` and
    ``files.0.path`` name their list as a whole, as Judge0's fields are)."""
    if not native_field:
        return "submission"
    for name in (native_field, native_field.split(".")[0]):
        if name in NATIVE_TO_JUDGE0_FIELD:
            return NATIVE_TO_JUDGE0_FIELD[name]
    return native_field
