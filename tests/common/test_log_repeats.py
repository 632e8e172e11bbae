"""The repeat limiter, on a fake clock: the first record of a (logger, template) passes, the repeats are
held back and summarised once per window, and a template that paused starts afresh."""

import logging

import pytest

from common import log_repeats
from common.log_repeats import RepeatLimiter

pytestmark = pytest.mark.unit


class FakeClock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Captured(logging.Handler):
    """Keeps the formatted messages that got through its filters."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def captured(clock: FakeClock) -> Captured:
    handler = Captured()
    handler.addFilter(RepeatLimiter(window_s=30, clock=clock))
    return handler


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test_log_repeats.{name}")
    logger.propagate = False
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    return logger


def test_a_flood_is_logged_once_then_once_per_window(clock: FakeClock, captured: Captured) -> None:
    kafka = _logger("conn", captured)
    # 10 attempts a second for 65 s, each with its own arguments (one template)
    start = clock.now
    for attempt in range(650):
        clock.now = start + attempt / 10
        kafka.error("Unable connect to node with id %s: attempt %d", 1, attempt)
    summary = "[299 more like this in the last 30 s; repeating for {} s]"
    assert captured.messages == [
        "Unable connect to node with id 1: attempt 0",
        f"Unable connect to node with id 1: attempt 300 {summary.format(30)}",
        f"Unable connect to node with id 1: attempt 600 {summary.format(60)}",
    ]


def test_records_below_warning_all_pass(clock: FakeClock, captured: Captured) -> None:
    access = _logger("access", captured)
    for request in range(3):
        access.info("GET /submissions/%d 200", request)
    assert captured.messages == ["GET /submissions/0 200", "GET /submissions/1 200", "GET /submissions/2 200"]


def test_templates_and_loggers_are_counted_apart(clock: FakeClock, captured: Captured) -> None:
    first, second = _logger("first", captured), _logger("second", captured)
    for _ in range(3):
        first.warning("broker %s down", "a")
        first.warning("database down")
        second.warning("broker %s down", "a")
        clock.now += 1
    assert captured.messages == ["broker a down", "database down", "broker a down"]


def test_after_a_pause_the_message_is_logged_again_with_what_was_held_back(
    clock: FakeClock, captured: Captured
) -> None:
    log = _logger("pause", captured)
    for _ in range(5):
        log.error("kafka unreachable")
        clock.now += 1
    clock.now += 30  # quiet for a whole window: the outage ended
    log.error("kafka unreachable")
    log.error("kafka unreachable")
    assert captured.messages == [
        "kafka unreachable",
        "kafka unreachable [again; 4 more like this were held back before it paused]",
    ]


def test_a_percent_sign_in_the_arguments_survives_the_summary(clock: FakeClock, captured: Captured) -> None:
    log = _logger("percent", captured)
    for _ in range(3):
        log.error("disk %s full", "100%")
        clock.now += 15
    assert captured.messages == [
        "disk 100% full",
        "disk 100% full [1 more like this in the last 30 s; repeating for 30 s]",
    ]


def test_it_remembers_a_bounded_number_of_templates(
    clock: FakeClock, captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_repeats, "MAX_TRACKED", 2)
    log = _logger("bounded", captured)
    for name in ("a", "b", "c", "a"):
        log.error(f"pre-formatted {name}")  # as a library that formats its own messages
    # "a" was forgotten when "c" came, so its repeat passes as new: memory stays bounded, nothing breaks
    assert captured.messages == ["pre-formatted a", "pre-formatted b", "pre-formatted c", "pre-formatted a"]
    assert len(captured.filters[0]._streaks) == 2  # type: ignore[union-attr]


def test_the_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window_s"):
        RepeatLimiter(window_s=0)
