"""Piston's ``POST /api/v2/execute`` body, checked field by field (400 ``{"message"}`` naming it) and
turned into a native ``POST /api/v1/submissions`` body."""

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from api.compat.errors import piston_error
from common.runtimes import Runtime
from schemas.encoded import text_and_base64
from schemas.jobs import MAX_MEMORY_MB, MAX_TIME_MS

FIELDS = frozenset(
    {
        "language", "version", "files", "stdin", "args", "compile_timeout", "run_timeout",
        "compile_cpu_time", "run_cpu_time", "compile_memory_limit", "run_memory_limit",
    }
)  # fmt: skip
DEFAULT_RUN_MS = 3_000
"""Piston's default ``run_timeout`` and ``run_cpu_time``."""
NO_LIMIT = -1
"""Piston's "no memory limit beyond the runtime's"."""
_ENCODINGS = ("utf8", "base64", "hex")


@dataclass(frozen=True, slots=True)
class PistonExecute:
    """A checked execute request (its runtime not resolved yet)."""

    language: str
    version: str
    source: bytes
    stdin: str
    numbers: dict[str, float]
    """The timeouts and memory limits it gave (Piston's units: ms, bytes)."""
    files: list[dict[str, str]] = field(default_factory=list)
    """``files[1:]`` as native files (``path``, ``content``, ``encoding``), written beside the program."""
    args: list[str] = field(default_factory=list)


def _string(data: Mapping[str, Any], name: str, *, default: str | None = None) -> str:
    value = data.get(name, default)
    if not isinstance(value, str):
        raise piston_error(f"{name} is required as a string")
    return value


def _checked_file(file: object, index: int) -> tuple[str, str, bytes]:
    """A file's name, encoding and bytes; refused naming ``files[index]``."""
    where = f"files[{index}]"
    if not isinstance(file, dict):
        raise piston_error(f"{where} must be an object")
    content, encoding = file.get("content"), file.get("encoding", "utf8")
    if not isinstance(content, str):
        raise piston_error(f"{where}.content is required as a string")
    if encoding not in _ENCODINGS:
        raise piston_error(f"{where}.encoding must be one of {', '.join(_ENCODINGS)}")
    name = file.get("name")
    if name is None:
        name = f"file{index}.code"  # Piston's name for an unnamed file
    if not isinstance(name, str):
        raise piston_error(f"{where}.name must be a string")
    if encoding == "utf8":
        return name, encoding, content.encode()
    try:
        raw = base64.b64decode(content, validate=True) if encoding == "base64" else bytes.fromhex(content)
    except (binascii.Error, ValueError):
        raise piston_error(f"{where}.content is not valid {encoding}") from None
    return name, encoding, raw


def _entry_point(file: object) -> bytes:
    """``files[0]``, the program: its bytes (text, or any bytes when base64 or hex)."""
    _, _, raw = _checked_file(file, 0)
    return raw


def _other_file(file: object, index: int) -> dict[str, str]:
    """``files[index]`` (index >= 1) as a native file; its bytes kept exactly (Base64 unless text)."""
    name, encoding, raw = _checked_file(file, index)
    if encoding == "utf8":
        return {"path": name, "content": raw.decode()}
    return {"path": name, "content": base64.b64encode(raw).decode(), "encoding": "base64"}


def parse_execute(data: object) -> PistonExecute:
    """Check an execute body in Piston's order: language, version, files, then the rest."""
    if not isinstance(data, dict):
        raise piston_error("the body must be a JSON object")
    language = _string(data, "language")
    version = _string(data, "version")
    files = data.get("files")
    if not isinstance(files, list) or not files:
        raise piston_error("files is required as a non-empty array")
    source = _entry_point(files[0])
    others = [_other_file(file, index) for index, file in enumerate(files[1:], start=1)]
    for name in data:
        if name not in FIELDS:
            raise piston_error(f"{name} is not a field of Piston's execute request")
    stdin = _string(data, "stdin", default="")
    args = data.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise piston_error("args must be an array of strings")
    numbers = {}
    for name in FIELDS - {"language", "version", "files", "stdin", "args"}:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise piston_error(f"{name} must be a number")
        if value < 0 and not (name.endswith("memory_limit") and value == NO_LIMIT):
            raise piston_error(
                f"{name} must be a non-negative number" + (" or -1" if "memory" in name else "")
            )
        numbers[name] = float(value)
    return PistonExecute(language, version, source, stdin, numbers, others, args)


def _bounded(execute: PistonExecute, name: str, default: float, limit: float) -> float:
    value = execute.numbers.get(name, default)
    if value > limit:
        raise piston_error(f"{name} cannot exceed the configured limit of {limit:g}")
    return value


def _compile_limits(execute: PistonExecute, runtime: Runtime) -> dict[str, int]:
    """The native ``compile_limits`` of ``compile_cpu_time``, ``compile_timeout`` and
    ``compile_memory_limit``, each at most the runtime's own (as Piston bounds them by its
    configuration); a field not given leaves the runtime's own. Ignored for interpreted languages, which
    have no compile stage (as in Piston)."""
    if not runtime.compiled:
        return {}
    limits: dict[str, int] = {}
    if "compile_cpu_time" in execute.numbers:
        cpu = _bounded(execute, "compile_cpu_time", 0, runtime.compile_time_ms)
        limits["time_ms"] = max(1, math.ceil(cpu))
    if "compile_timeout" in execute.numbers:
        wall = _bounded(execute, "compile_timeout", 0, 3 * runtime.compile_time_ms)
        limits["wall_ms"] = max(1, math.ceil(wall))
    memory = _bounded(execute, "compile_memory_limit", NO_LIMIT, runtime.compile_memory_mb * 2**20)
    if memory != NO_LIMIT:
        limits["memory_mb"] = max(1, math.ceil(memory / 2**20))
    return limits


def native_request(execute: PistonExecute, runtime: Runtime) -> dict[str, Any]:
    """The native submission that runs ``execute`` on ``runtime``: one plain run on ``stdin``, its CPU
    time, wall time and memory from ``run_cpu_time``, ``run_timeout`` and ``run_memory_limit``, the
    compiler's from the ``compile_`` fields, ``files[1:]`` beside the program and ``args`` as its
    arguments."""
    cpu_ms = _bounded(execute, "run_cpu_time", DEFAULT_RUN_MS, MAX_TIME_MS)
    wall_ms = _bounded(execute, "run_timeout", DEFAULT_RUN_MS, 3 * MAX_TIME_MS)
    limits: dict[str, int] = {"time_ms": max(1, math.ceil(cpu_ms)), "wall_ms": max(1, math.ceil(wall_ms))}
    memory = _bounded(execute, "run_memory_limit", NO_LIMIT, MAX_MEMORY_MB * 2**20)
    if memory != NO_LIMIT:
        limits["memory_mb"] = max(1, math.ceil(memory / 2**20))
    source, source_b64 = text_and_base64(execute.source)
    native: dict[str, Any] = {
        "language": runtime.id,
        "source": source,
        "stdin": execute.stdin,
        "limits": limits,
    }
    if source_b64 is not None:
        native["source_b64"] = source_b64
    if compile_limits := _compile_limits(execute, runtime):
        native["compile_limits"] = compile_limits
    if execute.files:
        native["files"] = execute.files
    if execute.args:
        native["args"] = execute.args
    return native


def piston_field(native_field: str | None) -> str:
    """The Piston field a native refusal of ``native_field`` is about: ``files.0.path`` is
    ``files[1].name`` (native ``files`` are Piston's second file on), ``args.2`` is ``args[2]``."""
    if not native_field:
        return "request"
    parts = native_field.split(".")
    if parts[0] == "source":
        return "files[0].content"
    if parts[0] == "files" and len(parts) >= 2 and parts[1].isdigit():
        attribute = {"path": "name"}.get(parts[2], parts[2]) if len(parts) > 2 else ""
        return f"files[{int(parts[1]) + 1}]" + (f".{attribute}" if attribute else "")
    if parts[0] == "args" and len(parts) == 2:
        return f"args[{parts[1]}]"
    return native_field
