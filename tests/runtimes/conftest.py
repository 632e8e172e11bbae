"""Fixtures of the runtime suite (tests/runtimes/harness.py): the runner and the table's results."""

from tests.runtimes.harness import finished_cases, job_runner

__all__ = ["finished_cases", "job_runner"]
