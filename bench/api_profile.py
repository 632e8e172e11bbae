"""Where the API's CPU goes, by task: py-spy samples the API process from outside during a phase, and
each sample is given to the part of the API its stack belongs to.

The API is one process with one event loop: the HTTP requests, the outbox relay, the results recorder,
the job intake, the dead-letter recorder and the SSE fan-out are asyncio tasks of the same thread, so
neither ``/proc/<pid>/task`` nor the cgroup can tell them apart. A stack sample can: while a task runs,
its whole chain of awaiting coroutines is on the stack. py-spy leaves idle samples (the loop waiting in
``epoll``) out, so the shares are shares of the CPU the API spent (:func:`shares`), which
:func:`bench.cpu_budget.budget` applies to the API's measured CPU time.
"""

import asyncio
import contextlib
import shutil
import signal
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RATE_HZ = 100
STOP_TIMEOUT_S = 30.0
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HTTP requests", ("uvicorn/", "litestar/", "api/submissions/")),
    ("outbox relay", ("api/outbox/",)),
    ("SSE fan-out", ("api/events/",)),
    ("results recorder", ("api/results/",)),
    ("job intake", ("api/intake/",)),
    ("dead-letter recorder", ("api/deadletters/",)),
    ("consumers' shared loop", ("api/lib/consumer.py",)),
    ("Kafka clients' own tasks", ("aiokafka/",)),
    ("MySQL calls, any task's", ("sqlalchemy/", "asyncmy/")),
)
"""A sample belongs to the first part (in this order) any frame of its stack matches. Requests come
first: a request handler may call into other parts' modules (a POST writes the outbox row). The SSE
fan-out's come before the recorder's, whose statement the streams use to record a result they show. The
recorder, the intake and the dead-letter recorder share one consumer loop (api/lib/consumer.py): a sample
in it without a frame of their own (fetching, committing) is the shared loop's. aiokafka's background tasks
(fetcher, sender, heartbeat) serve every consumer and producer of the process. SQLAlchemy runs each
statement in a greenlet, whose stack py-spy shows without the task that awaits it: such samples are
"MySQL calls" of whichever task. A sample in the event loop itself (uvloop's I/O callbacks, with no task
running) is the loop's; anything else (the garbage collector, the periodic purges) is ``other``."""
EVENT_LOOP = "event loop (I/O, callbacks)"
OTHER = "other"
RUNNER = "asyncio/runners.py"
LOOP = ("asyncio/base_events.py", "asyncio/events.py", "uvloop/")
"""The event loop's own frames between the runner and the task a sample caught running."""


def task_frames(stack: list[str]) -> list[str]:
    """The frames of the task a sample caught: those after the event loop's (uvicorn runs the loop, so
    every stack starts with uvicorn's frames, requests or not). A stack without the loop (another
    thread) is kept whole."""
    for index, frame in enumerate(stack):
        if RUNNER in frame:
            rest = stack[index + 1 :]
            while rest and any(pattern in rest[0] for pattern in LOOP):
                rest = rest[1:]
            return rest
    return stack


def part_of(stack: list[str]) -> str:
    """The part of the API a sampled stack (root first, as py-spy writes it) belongs to."""
    frames = task_frames(stack)
    if stack and not frames:
        return EVENT_LOOP
    for part, patterns in PARTS:
        if any(pattern in frame for frame in frames for pattern in patterns):
            return part
    return OTHER


def parse_raw(text: str) -> Counter[str]:
    """Samples per part from py-spy's ``--format raw`` output: one ``frame;frame;... count`` per line."""
    found: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():  # a stack without Python frames (native code) is "other"
            found[part_of(stack.split(";") if stack else [])] += int(count)
    return found


def shares(samples: Mapping[str, int]) -> dict[str, float]:
    """Each part's share of the samples, in :data:`PARTS` order, ``other`` last; empty without samples."""
    total = sum(samples.values())
    if not total:
        return {}
    order = [part for part, _ in PARTS] + [EVENT_LOOP, OTHER]
    return {part: round(samples[part] / total, 4) for part in order if samples.get(part)}


def py_spy() -> str | None:
    """The py-spy program next to this interpreter (the bench extra installs it), else on ``PATH``."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class ApiProfile:
    """py-spy recording the API from :meth:`start` to :meth:`stop`; :meth:`report` reads the split.
    Sampling is non-blocking (the API is never paused); py-spy needs ptrace rights over the API (root,
    or the same user with ``kernel.yama.ptrace_scope`` 0)."""

    def __init__(self, pid: int, output: Path) -> None:
        self._pid = pid
        self._output = output
        self._process: asyncio.subprocess.Process | None = None
        self.problem: str | None = None

    async def start(self) -> None:
        """Start sampling (or note why it cannot)."""
        program = py_spy()
        if program is None:
            self.problem = "py-spy is not installed (pip install -e '.[bench]')"
            return
        self._output.unlink(missing_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            program, "record", "--pid", str(self._pid), "--rate", str(RATE_HZ), "--format", "raw",
            "--nonblocking", "--output", str(self._output),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    async def stop(self) -> None:
        """Stop sampling: py-spy writes its file on SIGINT."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), STOP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            self.problem = "py-spy did not stop within 30 s"
            return
        if not self._output.exists():
            self.problem = f"py-spy wrote nothing: {stderr.decode(errors='replace').strip()[-300:]}"

    def report(self) -> dict[str, Any]:
        """The split: samples per part and shares, or the problem that prevented it."""
        if self.problem is not None or not self._output.exists():
            return {"method": "py-spy", "problem": self.problem or "not recorded"}
        samples = parse_raw(self._output.read_text())
        return {"method": "py-spy", "rate_hz": RATE_HZ, "samples": dict(samples), "shares": shares(samples)}
