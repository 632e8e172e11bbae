"""Progress lines on stderr (``[devstack] mysql: starting on 127.0.0.1:3307 ... ready (1.9 s)``) and the one
error type the command line reports."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

PREFIX = "[devstack]"


class DevstackError(Exception):
    """Something the stack needs is missing or failed; the message says what, and how to fix it."""


class _Console:
    """Writes progress to stderr; stdout is kept for machine-readable output (``KEY=VALUE``)."""

    def __init__(self) -> None:
        self.open_line = False

    def write(self, text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    def end_open_line(self) -> None:
        if self.open_line:
            self.write("\n")
            self.open_line = False


_console = _Console()


def say(message: str) -> None:
    """Print one ``[devstack]`` line (it first ends a step line that is still waiting for its result)."""
    _console.end_open_line()
    _console.write(f"{PREFIX} {message}\n")


class Step:
    """One step in progress; the body sets :attr:`result` to say how it ended (``"reused"``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.result = "done"


@contextmanager
def step(name: str, action: str) -> Iterator[Step]:
    """Report ``action`` of component ``name``, then its result and duration on the same line when nothing
    else was printed in between (or on a line of its own when something was)."""
    _console.end_open_line()
    _console.write(f"{PREFIX} {name}: {action} ...")
    _console.open_line = True
    current = Step(name)
    started = time.monotonic()
    try:
        yield current
    except BaseException:
        _finish(current, "FAILED", started)
        raise
    _finish(current, current.result, started)


def _finish(current: Step, result: str, started: float) -> None:
    elapsed = f"{result} ({time.monotonic() - started:.1f} s)"
    if _console.open_line:
        _console.write(f" {elapsed}\n")
        _console.open_line = False
    else:
        _console.write(f"{PREFIX} {current.name}: {elapsed}\n")
