"""A one-line progress bar redrawn in place (for a terminal's stderr)."""

import sys
import time
from typing import TextIO

from grader.tracker import Progress

BAR_WIDTH = 30


def render(progress: Progress, width: int = BAR_WIDTH) -> str:
    """``[#######.......]  120/500 done  2 without result  40.1 jobs/s  3 s``."""
    total = max(progress.total, 1)
    filled = width * progress.settled // total
    rate = progress.finished / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
    parts = [
        f"[{'#' * filled}{'.' * (width - filled)}]",
        f"{progress.settled}/{progress.total} done",
        f"{progress.sent - progress.settled} in flight",
    ]
    if progress.missing:
        parts.append(f"{progress.missing} without result")
    parts += [f"{rate:.1f} jobs/s", f"{progress.elapsed_s:.0f} s"]
    return "  ".join(parts)


class ProgressBar:
    """Draws :func:`render` on ``stream`` at most every ``interval_s`` (and always the last state)."""

    def __init__(self, stream: TextIO = sys.stderr, interval_s: float = 0.1) -> None:
        self._stream = stream
        self._interval_s = interval_s
        self._drawn_at = -interval_s
        self._width = 0

    def __call__(self, progress: Progress) -> None:
        """A :data:`grader.tracker.ProgressCallback`."""
        now = time.monotonic()
        if now - self._drawn_at < self._interval_s and progress.settled < progress.total:
            return
        self._drawn_at = now
        line = render(progress)
        # Pad over the previous, possibly longer line; \r returns to the start of the line.
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """End the line so later output starts on a fresh one."""
        if self._width:
            self._stream.write("\n")
            self._stream.flush()
            self._width = 0
