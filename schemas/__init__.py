"""Wire formats shared by every Executioner process and by third-party batch graders.

Everything a process puts on Kafka is one of the models here, encoded by :mod:`schemas.codec`.
The JSON Schema files under ``schemas/jsonschema/`` are generated from these models
(``python -m schemas.generate``) and a test fails when they drift.

Versioning rule: within ``v: 1`` fields are only ever *added*, and only as optional fields.
"""

from schemas.codec import DecodeError, decode_job, decode_result, encode
from schemas.deadletter import DeadLetterHeaders
from schemas.jobs import CompareMode, CompareSpec, JobMessage, Limits, TestCase
from schemas.results import (
    Outcome,
    ResultEvent,
    ResultMessage,
    RunReport,
    StatusEvent,
    TestEvent,
    TestReport,
)
from schemas.topics import Topics
from schemas.verdicts import Status, Verdict

__all__ = [
    "CompareMode",
    "CompareSpec",
    "DeadLetterHeaders",
    "DecodeError",
    "JobMessage",
    "Limits",
    "Outcome",
    "ResultEvent",
    "ResultMessage",
    "RunReport",
    "Status",
    "StatusEvent",
    "TestCase",
    "TestEvent",
    "TestReport",
    "Topics",
    "Verdict",
    "decode_job",
    "decode_result",
    "encode",
]
