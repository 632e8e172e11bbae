"""JSON log lines (common/log_context.py): one object per line, the bound ids where they apply."""

import asyncio
import io
import logging

import orjson
import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext

from common.log_context import ContextFields, LogFormat, formatter, log_context

pytestmark = pytest.mark.unit


@pytest.fixture
def lines() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter(LogFormat.JSON))
    handler.addFilter(ContextFields())
    logger = logging.getLogger(f"test-log-context-{id(out)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger, out


def records(out: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_the_ids_bound_where_it_was_logged(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = lines
    logger.info("before")
    span = NonRecordingSpan(SpanContext(0xABC, 0xDEF, is_remote=False))
    with log_context(submission_id="s-1", language="c", worker="w-1"), trace.use_span(span):
        logger.info("during\nwith a newline")
    logger.info("after")
    before, during, after = records(out)
    assert before == {"time": before["time"], "level": "INFO", "logger": logger.name, "message": "before"}
    assert during["message"] == "during\nwith a newline"
    assert (during["submission_id"], during["language"], during["worker"]) == ("s-1", "c", "w-1")
    assert during["trace_id"] == f"{0xABC:032x}"
    assert "submission_id" not in after and "trace_id" not in after


async def test_ids_stay_with_their_own_task(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = lines
    both = asyncio.Barrier(2)

    async def job(submission_id: str) -> None:
        with log_context(submission_id=submission_id):
            await both.wait()  # the other task has bound its id meanwhile
            logger.info("ran %s", submission_id)

    await asyncio.gather(job("a"), job("b"))
    assert sorted((r["message"], r["submission_id"]) for r in records(out)) == [
        ("ran a", "a"),
        ("ran b", "b"),
    ]
