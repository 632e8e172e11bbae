"""Counting deliveries of jobs, to recognise poison (pure, no Kafka).

A job that kills its worker (it exhausts the container's memory, crashes the interpreter, ...) would be
delivered again and again to the next owner of its partition and take down the whole pool in turn. So a
worker records, before it starts jobs, how many times each of them has been started: in the *metadata*
of the consumer group's committed offset, next to the offset itself, so the count survives the worker and
needs no other store. A job that finishes is dropped from the record; a job whose count says it was
already started ``max_deliveries`` times without finishing is dead-lettered instead of run.

The metadata is a short ASCII string, ``d1@<base>:<delta>=<count>,...``: offsets relative to ``base``
(the committed offset it was written with), so a pool's worth of entries stays well below Kafka's
``offset.metadata.max.bytes`` (4096 by default). Anything else found there (an empty string, another
tool's metadata) reads as "no record".
"""

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MAX_METADATA_CHARS = 1024
"""Longest metadata written; entries beyond it are dropped, the least suspicious first."""
_PREFIX = "d1@"
_METADATA = re.compile(r"d1@(\d+):(\d+=\d+(?:,\d+=\d+)*)")


def encode(starts: Mapping[int, int], base: int, *, max_chars: int = MAX_METADATA_CHARS) -> str:
    """The metadata recording ``starts`` (offset → times started) for offsets at or above ``base``;
    empty when there is nothing to record.

    When it would be longer than ``max_chars``, the entries with the fewest starts are left out (among
    equals, the highest offsets): losing a count of 1 costs at most one more delivery of that job."""
    kept = sorted(
        ((offset, count) for offset, count in starts.items() if offset >= base and count > 0),
        key=lambda entry: (-entry[1], entry[0]),
    )
    head = f"{_PREFIX}{base}:"
    while kept:
        text = head + ",".join(f"{offset - base}={count}" for offset, count in sorted(kept))
        if len(text) <= max_chars:
            return text
        kept.pop()
    return ""


def decode(metadata: str | None) -> dict[int, int]:
    """``offset → times started`` from committed metadata; empty for anything not written by
    :func:`encode`."""
    if not metadata:
        return {}
    match = _METADATA.fullmatch(metadata)
    if match is None:
        return {}
    base = int(match.group(1))
    starts: dict[int, int] = {}
    for entry in match.group(2).split(","):
        delta, count = entry.split("=")
        starts[base + int(delta)] = int(count)
    return starts


@dataclass
class Deliveries:
    """How many times each unfinished job of one partition has been started, by this worker or the
    partition's earlier owners."""

    starts: dict[int, int] = field(default_factory=dict)

    @classmethod
    def from_committed(cls, committed: int | None, metadata: str | None) -> "Deliveries":
        """The record found next to the committed offset (entries below it are done: dropped)."""
        starts = decode(metadata)
        if committed is not None:
            starts = {offset: count for offset, count in starts.items() if offset >= committed}
        return cls(starts)

    def start(self, offset: int) -> int:
        """The job at ``offset`` is being started once more; returns how many times it was started
        before (and never finished)."""
        before = self.starts.get(offset, 0)
        self.starts[offset] = before + 1
        return before

    def abandon(self, offset: int) -> None:
        """Take back one :meth:`start` of the job at ``offset``: it did not start after all."""
        count = self.starts.get(offset, 0) - 1
        if count > 0:
            self.starts[offset] = count
        else:
            self.starts.pop(offset, None)

    def finish(self, offset: int) -> None:
        """The job at ``offset`` is done (its result or dead letter acknowledged): it is no suspect."""
        self.starts.pop(offset, None)

    def metadata(self, position: int) -> str:
        """The metadata to commit with ``position``; entries below it are done and forgotten."""
        for offset in [offset for offset in self.starts if offset < position]:
            del self.starts[offset]
        text = encode(self.starts, position)
        if len(decode(text)) < len(self.starts):
            log.warning(
                "too many unfinished jobs to record all their starts; the lowest counts were left out"
            )
        return text
