"""The pool process side: receive jobs over a socket, run them, stream back per-test reports and the
outcome. Frames are a 4-byte big-endian length and a pickle (both ends are our own code).

Parent → process: a JobMessage or a CheckRequest (a check asked by another worker), or None to exit.
Process → parent: ``("ready",)`` once, when it can take jobs (its warm sandbox started); then, per job,
``("setup", seconds)`` once its sandbox is set up, ``("test", TestReport)`` per test, ``("check",
CheckRequest)`` for a test whose checker runs elsewhere (the parent answers with the CheckReply), then
``("done", Outcome)`` (``("done", CheckReply)`` for a check) or ``("error", summary, traceback)`` when we
failed.
"""

import contextlib
import os
import pickle
import signal
import socket
import struct
import time
import traceback

from common.runtimes import Runtime
from schemas.checks import CheckReply, CheckRequest
from schemas.jobs import JobMessage
from schemas.results import TestReport
from worker.checks import answer_check
from worker.errors import InternalError
from worker.execute import ExecConfig, execute_job
from worker.judge_programs import JudgePrograms
from worker.proctree import become_subreaper
from worker.scratch import enter_private_mounts, limit_kernel_objects
from worker.test_data import TestFiles
from worker.warm import WarmSandbox

HEADER = struct.Struct("!I")


def encode_frame(message: object) -> bytes:
    """One length-prefixed pickle frame."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = sock.recv(size - len(buffer))
        if not chunk:
            raise EOFError("the parent closed the pool socket")
        buffer += chunk
    return bytes(buffer)


def recv_frame(sock: socket.socket) -> object:
    """The next frame's message; EOFError when the parent is gone."""
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    return pickle.loads(_recv_exactly(sock, size))


def _ignore_signal(signum: int, frame: object) -> None:
    """SIGINT does nothing to a pool process."""


def _prepare_sandbox(config: ExecConfig) -> str | None:
    """Give a sandboxing pool process its private mount namespace for job scratch space (it must still
    be single-threaded). Returns why it cannot run jobs, or None."""
    if not config.sandbox.isolates:
        return None
    if os.geteuid() == 0:
        # bwrap maps the job's user to ours: as root, a job would be root outside its namespaces.
        return "the sandbox needs an unprivileged worker user; this worker runs as root"
    try:
        enter_private_mounts(config.scratch_dir, own_network=config.sandbox.gvisor)
        if not config.sandbox.gvisor:
            limit_kernel_objects()
    except OSError as exc:
        return f"cannot prepare the sandbox's scratch space: {exc}"
    return None


def serve(sock: socket.socket, runtime: Runtime, config: ExecConfig) -> None:
    """Main loop of one pool process: run jobs one at a time until told to stop or orphaned."""
    # A terminal's Ctrl-C reaches the whole process group; the parent decides when we stop. A handler,
    # not SIG_IGN: exec resets handlers, so the programs we start get the default back.
    signal.signal(signal.SIGINT, _ignore_signal)
    # Orphans of a job's processes come to us, not to PID 1: the job's memory watch and kill see them.
    become_subreaper()
    # Before the private scratch mount, which may cover the cache directory.
    test_files = TestFiles.open(config.test_cache_dir)
    unusable = _prepare_sandbox(config)
    warm = None
    if config.sandbox.kind == "warm" and unusable is None:
        warm = WarmSandbox(config.sandbox, config.scratch_dir)
        with contextlib.suppress(InternalError):  # ready before the first job; else it starts then
            warm.start()
    judges = JudgePrograms(config.sandbox, config.scratch_dir)  # compiled checkers, kept across jobs
    try:
        sock.sendall(encode_frame(("ready",)))
    except OSError:
        return  # the parent is gone
    with sock, contextlib.closing(warm) if warm is not None else contextlib.nullcontext():
        while True:
            try:
                job = recv_frame(sock)
            except EOFError:
                return  # the worker died: nothing to report to
            if job is None:
                return
            if isinstance(job, CheckRequest):
                _answer(sock, job, runtime, judges, test_files, unusable=unusable)
                continue
            assert isinstance(job, JobMessage)
            received = time.monotonic()

            def report(test: TestReport) -> None:
                sock.sendall(encode_frame(("test", test)))

            def ready(received: float = received) -> None:
                sock.sendall(encode_frame(("setup", time.monotonic() - received)))

            def check_remotely(request: CheckRequest) -> CheckReply:
                sock.sendall(encode_frame(("check", request)))
                reply = recv_frame(sock)
                assert isinstance(reply, CheckReply)
                return reply

            try:
                if unusable is not None:
                    raise InternalError(unusable)
                reply: tuple[object, ...] = (
                    "done",
                    execute_job(
                        job,
                        runtime,
                        config,
                        report,
                        warm=warm,
                        on_ready=ready,
                        judges=judges,
                        test_files=test_files,
                        check_remotely=check_remotely,
                    ),
                )
            except InternalError as exc:
                reply = ("error", str(exc), traceback.format_exc())
            except Exception as exc:  # a bug of ours must not take the pool process down silently
                reply = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
            try:
                sock.sendall(encode_frame(reply))
            except OSError:
                return  # the parent gave up on us


def _answer(
    sock: socket.socket,
    request: CheckRequest,
    runtime: Runtime,
    judges: JudgePrograms,
    tests: TestFiles,
    *,
    unusable: str | None,
) -> None:
    """Answer one check request; our failure is an ``("error", ...)`` frame like a job's."""
    try:
        if unusable is not None:
            raise InternalError(unusable)
        reply: tuple[object, ...] = ("done", answer_check(request, runtime, judges, tests))
    except Exception as exc:
        reply = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    with contextlib.suppress(OSError):  # the parent gave up on us
        sock.sendall(encode_frame(reply))
