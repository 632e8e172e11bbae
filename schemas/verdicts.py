"""Submission statuses and verdicts, as they appear on the wire, in MySQL and in the HTTP API."""

from enum import StrEnum


class Status(StrEnum):
    """Where a submission is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"


class Verdict(StrEnum):
    """How a run (one test, or the whole submission) ended.

    Every verdict but ``internal_error`` is about the user's program; ``internal_error`` means
    Executioner failed and is never the user's fault.
    """

    ACCEPTED = "accepted"
    WRONG_ANSWER = "wrong_answer"
    PRESENTATION_ERROR = "presentation_error"
    """A custom checker found the answer malformed (testlib's exit code 2); the compare modes never say it."""
    TIME_LIMIT_EXCEEDED = "time_limit_exceeded"
    MEMORY_LIMIT_EXCEEDED = "memory_limit_exceeded"
    OUTPUT_LIMIT_EXCEEDED = "output_limit_exceeded"
    RUNTIME_ERROR = "runtime_error"
    COMPILATION_ERROR = "compilation_error"
    INTERNAL_ERROR = "internal_error"
