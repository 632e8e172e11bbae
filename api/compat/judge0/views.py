"""A stored submission as Judge0 shows it: its status (runtime errors split by signal, as Judge0 does),
figures in Judge0's units and, with ``base64_encoded``, text attributes in Base64."""

import base64
import shlex
import signal
from collections.abc import Iterable, Mapping
from typing import Any, cast

from api.compat.errors import judge0_error
from api.compat.judge0.catalog import (
    DEFAULTS,
    MULTI_FILE_ID,
    MULTI_FILE_NAME,
    STATUSES,
    UNSUPPORTED_DEFAULTS,
    judge0_id,
)
from api.compat.judge0.wire import Judge0Submission
from api.submissions.repository import SubmissionRow, SubmittedProgram
from common.runtimes import Runtime
from schemas import Limits, Outcome, RunReport, Status, Verdict

ENCODED_FIELDS = frozenset(
    {"source_code", "stdin", "expected_output", "stdout", "stderr", "compile_output", "message"}
)
"""Attributes Judge0 sends in Base64 when asked to (``base64_encoded=true``)."""

NOT_UTF8 = (
    "some attributes for this submission cannot be converted to UTF-8, "
    "use base64_encoded=true query parameter"
)
"""Judge0's answer when output is not UTF-8 text and the client asked for plain text."""
NOT_UTF8_IN_BATCH = (
    "some attributes for one or more submissions cannot be converted to UTF-8, "
    "use base64_encoded=true query parameter"
)
"""Judge0's answer to a batch read where that is so for one of the submissions."""

_RUNTIME_ERROR_SIGNALS = {"SIGSEGV": 7, "SIGXFSZ": 8, "SIGFPE": 9, "SIGABRT": 10}
_VERDICT_STATUS = {
    Verdict.ACCEPTED: 3,
    Verdict.WRONG_ANSWER: 4,
    # Judge0 has no presentation error: its checkers only compare, so a malformed answer is a wrong one.
    Verdict.PRESENTATION_ERROR: 4,
    Verdict.TIME_LIMIT_EXCEEDED: 5,
    Verdict.COMPILATION_ERROR: 6,
    # Judge0 has no memory status: its sandbox kills the program, which Judge0 reports as "Other".
    Verdict.MEMORY_LIMIT_EXCEEDED: 12,
    # Judge0 caps output with a file-size limit, so too much output dies of SIGXFSZ there.
    Verdict.OUTPUT_LIMIT_EXCEEDED: 8,
    Verdict.INTERNAL_ERROR: 13,
}


def status_id(status: Status, verdict: Verdict | None, run: RunReport | None) -> int:
    """Judge0's status id of a submission: 1-2 while queued or running; a runtime error by the signal
    that ended the program (7-10, 12 for any other signal) or 11 (NZEC) for a non-zero exit."""
    if status is Status.QUEUED:
        return 1
    if status is Status.RUNNING or verdict is None:
        return 2
    if verdict is Verdict.RUNTIME_ERROR:
        if run is not None and run.signal is not None:
            return _RUNTIME_ERROR_SIGNALS.get(run.signal, 12)
        return 11
    return _VERDICT_STATUS[verdict]


def _signal_number(name: str | None) -> int | None:
    if name is None:
        return None
    try:
        return int(signal.Signals[name])
    except KeyError:
        return None


def _message(verdict: Verdict | None, run: RunReport | None, outcome: Outcome | None) -> str | None:
    if verdict is Verdict.INTERNAL_ERROR:
        return (outcome.message if outcome else None) or "internal error"
    if verdict is Verdict.MEMORY_LIMIT_EXCEEDED:
        return "Memory limit exceeded"
    if verdict is Verdict.TIME_LIMIT_EXCEEDED:
        return "Time limit exceeded"
    if run is not None and verdict is Verdict.RUNTIME_ERROR:
        if run.signal is not None:
            return f"Caught fatal signal {_signal_number(run.signal) or run.signal}"
        return f"Exited with error status {run.exit_code}"
    return None


def _seconds(ms: int) -> str:
    # Judge0 serializes times as decimal strings ("0.031").
    return f"{ms / 1000:.3f}"


def _timestamp(row: SubmissionRow, name: str) -> str | None:
    at = getattr(row, name)
    return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _compile_output(outcome: Outcome | None) -> str | bytes | None:
    if outcome is None or outcome.compile is None:
        return None
    return _concatenated(
        _output(outcome.compile.stdout, outcome.compile.stdout_b64),
        _output(outcome.compile.stderr, outcome.compile.stderr_b64),
    )


def _output(text: str, b64: str | None) -> str | bytes | None:
    """An output as Judge0 keeps it: its text, or its exact bytes when they are not UTF-8 (the worker
    sent them as Base64 beside the text); None when empty."""
    if b64 is not None:
        return base64.b64decode(b64)
    return text or None


def _input(text: str, b64: str | None) -> str | bytes:
    """A text the submission was sent with: its exact bytes when they are not UTF-8 (``_b64`` in the
    job), else the text."""
    return base64.b64decode(b64) if b64 is not None else text


def _concatenated(first: str | bytes | None, second: str | bytes | None) -> str | bytes | None:
    if first is None or second is None:
        return first if second is None else second
    if isinstance(first, str) and isinstance(second, str):
        return first + second
    as_bytes = [part.encode() if isinstance(part, str) else part for part in (first, second)]
    return as_bytes[0] + as_bytes[1]


def _run_options(spec: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The Judge0 attributes of the run options the submission was sent with."""
    args = spec.get("args") or []
    options = spec.get("compiler_options") or []
    return {
        "compiler_options": " ".join(options) or None,
        "command_line_arguments": shlex.join(args) or None,
        "redirect_stderr_to_stdout": bool(spec.get("redirect_stderr_to_stdout", False)),
        "number_of_runs": spec.get("runs", 1),
        "stack_limit": limits.stack_kb if limits.stack_kb is not None else DEFAULTS.stack_limit,
        "max_processes_and_or_threads": limits.processes or DEFAULTS.max_processes_and_or_threads,
        # The archive itself is not kept (only the paths of its files), so it cannot be shown back.
        "additional_files": None,
        "callback_url": None,  # kept with the delivery, not the submission
    }


def _source(program: SubmittedProgram, b64: str | None, runtime: Runtime | None) -> str | bytes | None:
    """The source as Judge0 shows it: the program's bytes where the runtime takes bytes (Executable)."""
    source = _input(program.source, b64)
    if runtime is not None and runtime.source_encoding == "base64":
        return runtime.program_bytes(source.encode() if isinstance(source, str) else source)
    return source


def all_attributes(row: SubmissionRow, program: SubmittedProgram, runtime: Runtime | None) -> dict[str, Any]:
    """Every Judge0 attribute of the submission, in plain text."""
    outcome = Outcome.model_validate(row.outcome) if row.outcome is not None else None
    run = outcome.run if outcome is not None else None
    if outcome is not None and run is None and outcome.tests:
        run = outcome.tests[0]
    verdict = outcome.verdict if outcome is not None else None
    tests = row.spec.get("tests") or []
    limits = outcome.limits if outcome else Limits.model_validate(row.spec.get("limits", {})).effective()
    sid = status_id(row.status, verdict, run)
    language_id = judge0_id(runtime) if runtime is not None else None
    if row.spec.get("run_scripts"):
        language_id = MULTI_FILE_ID
    return {
        "source_code": _source(program, row.spec.get("source_b64"), runtime),
        "language_id": language_id,
        "stdin": _input(tests[0].get("stdin", ""), tests[0].get("stdin_b64"))
        if tests
        else _input(program.stdin, row.spec.get("stdin_b64")),
        "expected_output": _input(tests[0]["expected_output"], tests[0].get("expected_output_b64"))
        if tests
        else None,
        "stdout": _output(run.stdout, run.stdout_b64) if run is not None else None,
        "status_id": sid,
        "created_at": _timestamp(row, "created_at"),
        "finished_at": _timestamp(row, "finished_at"),
        "time": _seconds(run.time_ms) if run is not None else None,
        "memory": run.memory_kb if run is not None else None,
        "stderr": _output(run.stderr, run.stderr_b64) if run is not None else None,
        "token": row.id,
        "cpu_time_limit": _seconds(limits.time_ms),
        "wall_time_limit": _seconds(limits.wall_ms or 3 * limits.time_ms),
        "memory_limit": limits.memory_mb * 1024,
        "max_file_size": limits.output_kb,
        "compile_output": _compile_output(outcome),
        "exit_code": run.exit_code if run is not None else None,
        "exit_signal": _signal_number(run.signal) if run is not None else None,
        "message": _message(verdict, run, outcome),
        "wall_time": _seconds(run.wall_ms) if run is not None else None,
        "enable_network": False,
        **{name: (None if default == "" else default) for name, default in UNSUPPORTED_DEFAULTS.items()},
        **_run_options(row.spec, limits),
        "status": {"id": sid, "description": STATUSES[sid]},
        "language": {
            "id": language_id,
            "name": MULTI_FILE_NAME
            if language_id == MULTI_FILE_ID
            else (runtime.name if runtime else row.language),
        },
    }


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return base64.b64encode(value.encode()).decode() if isinstance(value, str) else value


def submission_view(
    attributes: Mapping[str, Any], fields: Iterable[str], base64_encoded: bool
) -> Judge0Submission:
    """The ``fields`` of a submission's attributes, Base64-encoded where Judge0 would (output that is
    not UTF-8 as its exact bytes). Such output is refused in plain text, as Judge0 does."""
    view = {name: attributes[name] for name in fields}
    if base64_encoded:
        view = {name: _encode(value) if name in ENCODED_FIELDS else value for name, value in view.items()}
    elif any(isinstance(value, bytes) for value in view.values()):
        raise judge0_error(400, NOT_UTF8)
    # The attributes are Judge0Submission's (all_attributes builds them; fields names only those).
    return cast(Judge0Submission, view)
