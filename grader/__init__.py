"""Batch grading: send many jobs to an Executioner cluster, over Kafka or HTTP, and collect every result.

For graders written in Python::

    import asyncio
    from pathlib import Path
    from grader import GradeOptions, grade, read_jobs, write_results

    jobs = read_jobs(Path("jobs.jsonl"))  # or a list of dicts in the job-message format
    report = asyncio.run(grade(jobs, GradeOptions(via="kafka", kafka_bootstrap="kafka:9092")))
    write_results(report.results, Path("results.jsonl"))
    print(report.summary.verdicts, report.summary.jobs_per_s, report.summary.p99_ms)

The command line is ``executioner grade`` (docs/grading.md). This package imports only :mod:`schemas`
and :mod:`common`.
"""

from grader.errors import GradeError
from grader.grade import GradeOptions, GradeReport, grade
from grader.jobs import GradeJob, JobsFileError, parse_jobs, read_jobs
from grader.progress import ProgressBar
from grader.results import JobResult, JobState, dump_results, write_results
from grader.summary import GradeSummary, percentile, summarize
from grader.tracker import Progress

__all__ = [
    "GradeError",
    "GradeJob",
    "GradeOptions",
    "GradeReport",
    "GradeSummary",
    "JobResult",
    "JobState",
    "JobsFileError",
    "Progress",
    "ProgressBar",
    "dump_results",
    "grade",
    "parse_jobs",
    "percentile",
    "read_jobs",
    "summarize",
    "write_results",
]
