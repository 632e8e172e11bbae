"""Keeping an outage from flooding the logs: a warning or error that repeats is logged once, then
summarised.

Client libraries log every failed attempt (aiokafka: thousands of ``Unable connect to node`` lines a
minute while a broker is down). :class:`RepeatLimiter` passes the first record of each (logger, message
template) and holds back the repeats; while they go on, one of them passes every ``window_s`` seconds,
saying how many were held back and for how long the message has been repeating. A template that has
been quiet for ``window_s`` starts afresh, so the next outage is logged again at once (with the count
of the last streak's repeats that no summary reported). Recovery is the caller's to log, once: the
message differs, so it always passes.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_WINDOW_S = 30.0
"""How often a repeating message, or an outage that goes on, is summarised unless configured otherwise."""

MAX_TRACKED = 1024
"""Templates remembered at once; beyond that the least recently seen one is forgotten (a logger that
formats its own messages makes every record a new template)."""


@dataclass
class _Streak:
    started: float
    last_seen: float
    last_passed: float
    held: int = 0


class RepeatLimiter(logging.Filter):
    """A handler filter passing the first record of each (logger, template) at ``min_level`` or above and
    then at most one per ``window_s`` seconds, annotated with the count of records held back since the
    previous one. Records below ``min_level`` all pass."""

    def __init__(
        self,
        window_s: float,
        *,
        min_level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, not {window_s}")
        self._window_s = window_s
        self._min_level = min_level
        self._clock = clock
        self._streaks: OrderedDict[tuple[str, str], _Streak] = OrderedDict()
        self._lock = threading.Lock()  # handlers may be called from several threads

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is logged; a summary of held-back repeats is appended to its message."""
        if record.levelno < self._min_level:
            return True  # what goes well repeats too (an access log line per request): all of it is kept
        key = (record.name, str(record.msg))
        now = self._clock()
        with self._lock:
            streak = self._streaks.get(key)
            if streak is None or now - streak.last_seen >= self._window_s:
                self._start(key, now)
                if streak is not None and streak.held:
                    note = f" [again; {streak.held} more like this were held back before it paused]"
                    _annotate(record, note)
                return True
            self._streaks.move_to_end(key)
            streak.last_seen = now
            if now - streak.last_passed < self._window_s:
                streak.held += 1
                return False
            held, streak.held, streak.last_passed = streak.held, 0, now
            repeating_s = now - streak.started
        _annotate(
            record,
            f" [{held} more like this in the last {self._window_s:.0f} s; repeating for {repeating_s:.0f} s]",
        )
        return True

    def _start(self, key: tuple[str, str], now: float) -> None:
        self._streaks[key] = _Streak(started=now, last_seen=now, last_passed=now)
        self._streaks.move_to_end(key)
        while len(self._streaks) > MAX_TRACKED:
            self._streaks.popitem(last=False)


def _annotate(record: logging.LogRecord, note: str) -> None:
    # Format once here so the note cannot be mistaken for %-placeholders of the original message.
    record.msg = record.getMessage() + note
    record.args = None
