"""What a log line says besides its message: the submission, trace, language and worker it is about, and
the two formats (``EXECUTIONER_LOG_FORMAT``): ``text`` for a terminal, ``json`` (one object per line, by
python-json-logger) for a log pipeline.

The ids live in context variables, so every line logged while a job or a request is handled carries them,
in its own asyncio task, without each call site passing them on. A field is present only where it applies.
Nothing here ever reads a job's source, stdin or expected output: only ids and names are bound.
"""

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from enum import StrEnum

from pythonjsonlogger.json import JsonFormatter

from common.tracing import current_trace_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogFormat(StrEnum):
    """How each log record is written."""

    TEXT = "text"
    JSON = "json"


_submission_id: ContextVar[str | None] = ContextVar("submission_id", default=None)
_language: ContextVar[str | None] = ContextVar("language", default=None)
_worker: ContextVar[str | None] = ContextVar("worker", default=None)
_FIELDS = {"submission_id": _submission_id, "language": _language, "worker": _worker}


@contextlib.contextmanager
def log_context(
    *, submission_id: object = None, language: str | None = None, worker: str | None = None
) -> Iterator[None]:
    """Within the block, records logged by this task carry the given fields (those not None)."""
    given = {"submission_id": submission_id, "language": language, "worker": worker}
    tokens = [
        (_FIELDS[name], _FIELDS[name].set(str(value))) for name, value in given.items() if value is not None
    ]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def bind_process(*, language: str | None = None, worker: str | None = None) -> None:
    """Fields of every record of this process from now on (a worker's language and id); call before the
    event loop starts, so that every task inherits them."""
    if language is not None:
        _language.set(language)
    if worker is not None:
        _worker.set(worker)


class ContextFields(logging.Filter):
    """Adds the bound fields and the current trace id to each record that passes (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``submission_id``, ``language``, ``worker`` and ``trace_id`` where they apply."""
        for name, variable in _FIELDS.items():
            value = variable.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        trace_id = current_trace_id()
        if trace_id is not None and not hasattr(record, "trace_id"):
            record.trace_id = trace_id
        return True


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of ``log_format``: JSON carries the bound fields as keys of its own (any ``extra``
    attribute of a record becomes one); text stays one readable line."""
    if log_format is LogFormat.JSON:
        return JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter(TEXT_FORMAT)
