"""Check requests and replies: how a worker has one test's output judged by a checker written in a
language its image does not have (docs/checkers.md, "Checkers in other languages").

These topics are internal, between workers of one cluster; batch graders neither read nor write them.

* ``checks.<language>`` (key: the submission id): a :class:`CheckRequest`, consumed by the workers of the
  checker's language (consumer group ``executioner-checkers-<language>``).
* ``check-replies`` (key: the asking worker's id): a :class:`CheckReply`; every worker that asked reads
  the replies addressed to it, with no consumer group.

Example request (output in Base64; the test by reference to the test store, or inline)::

    {"v": 1, "id": "5c1e...", "reply_to": "worker-python-1", "submission_id": "0b6f...", "test_index": 0,
     "checker": {"language": "go", "source": "package main ..."},
     "test": {"expected_output": "", "output_sha256": "ab12...", "output_size": 6}, "output": "MSAyIDMK"}
"""

import base64
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.encoded import Base64Bytes
from schemas.jobs import ProgramSpec, TestCase
from schemas.verdicts import Verdict

CHECK_MESSAGE_BYTES = 16 * 1024 * 1024
"""The largest check request (a program's output is at most 1 MiB, the checker's source and files a few
MiB): the topics' ``max.message.bytes`` and the producers' ``max_request_size``."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CheckRequest(_Wire):
    """Judge ``output``, the program's stdout on test ``test_index`` of a submission, with ``checker``."""

    v: Literal[1] = 1
    id: UUID
    """Chosen by the asking worker; the reply carries it back."""
    reply_to: Annotated[str, Field(min_length=1, max_length=256)]
    """The asking worker's id: the key of the reply."""
    submission_id: UUID
    test_index: Annotated[int, Field(ge=0)]
    checker: ProgramSpec
    test: TestCase
    """The test's input and expected answer (inline, or by SHA-256 in the test store)."""
    output: Base64Bytes

    def output_bytes(self) -> bytes:
        """The program's output."""
        return base64.b64decode(self.output)

    def reply(self, verdict: Verdict, message: str, *, unusable: bool = False) -> "CheckReply":
        """The reply to this request."""
        return CheckReply(
            id=self.id, reply_to=self.reply_to, verdict=verdict, message=message, unusable=unusable
        )

    def failed(self, message: str, *, unusable: bool = False) -> "CheckReply":
        """The reply saying the check could not be done (``internal_error``)."""
        return self.reply(Verdict.INTERNAL_ERROR, message, unusable=unusable)


class CheckReply(_Wire):
    """What the checker said about one test."""

    v: Literal[1] = 1
    id: UUID
    """The request's id."""
    reply_to: str
    verdict: Verdict
    """``accepted``, ``wrong_answer``, ``presentation_error``, or ``internal_error`` (the checker failed)."""
    message: str = ""
    """The checker's message (its stderr, cut), or why it could not run."""
    unusable: bool = False
    """The checker cannot be used at all (it does not compile): the asking worker stops the job there."""
