"""Placement: which host each new worker goes to, as a pure function on plain data (like
:mod:`master.plan`).

A host offers the CPUs and memory its engine reports (CPUs times ``host_cpu_overcommit``); our containers
on it take their limits from that. Each new worker goes to the up host, with the language's image, that
has room for the most further workers, the one with fewer workers of that language on a tie, so a
language spreads over the hosts and no host is filled past its capacity. Languages take turns (one start
each) so a large pool cannot starve a small one. Starts that fit nowhere are left out, and the language
gets a ``problem`` that says what is missing.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from master.model import ObservedContainer, StartWorker

UP, DRAINING, DOWN = "up", "draining", "down"
UNREACHABLE = "unreachable"
"""Not answering for less than ``host_down_s``: its workers still count, nothing is placed there."""


@dataclass(frozen=True, slots=True)
class WorkerSize:
    """What one worker takes from its host: its CPU limit and its memory (limit plus ``/tmp``)."""

    cpus: float
    memory_mb: int


@dataclass(frozen=True, slots=True)
class HostView:
    """One host as placement sees it."""

    name: str
    state: str
    """``up`` (takes workers), ``draining`` (its workers move away), ``unreachable`` or ``down`` (not
    answering for less or more than ``host_down_s``)."""
    cpus: float
    """CPUs it offers to workers."""
    memory_mb: int
    """Memory it offers to workers, MiB."""
    languages: frozenset[str] = field(default_factory=frozenset)
    """Languages whose worker image it has (the master's image id)."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Starts with their hosts, and why a language got fewer starts than it asked for."""

    starts: list[StartWorker]
    problems: dict[str, str]
    unplaced: dict[str, int]
    """How many of each language's starts fit on no up host this pass."""


def room(host: HostView, used: int, size: WorkerSize) -> int:
    """How many more workers fit on ``host`` next to ``used`` of ours (never negative)."""
    # A small epsilon: 3 workers of 0.1 CPU fit 0.3 CPUs although 0.3 / 0.1 < 3 in floating point.
    by_cpu = math.floor(host.cpus / size.cpus + 1e-9)
    by_memory = host.memory_mb // size.memory_mb
    return max(0, min(by_cpu, by_memory) - used)


def occupancy(containers: Iterable[ObservedContainer]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Containers holding resources (all but dead ones) per host, and per (host, language)."""
    per_host: dict[str, int] = {}
    per_language: dict[tuple[str, str], int] = {}
    for c in containers:
        if not c.dead:
            per_host[c.host] = per_host.get(c.host, 0) + 1
            per_language[c.host, c.language] = per_language.get((c.host, c.language), 0) + 1
    return per_host, per_language


def place(
    wanted: Mapping[str, int],
    hosts: Sequence[HostView],
    containers: Iterable[ObservedContainer],
    size: WorkerSize,
) -> Placement:
    """Put ``wanted[language]`` new workers of each language on the up hosts; ``containers`` are ours
    that exist now (on any host)."""
    used, mine = occupancy(containers)
    up = [h for h in hosts if h.state == UP]
    left = {language: count for language, count in wanted.items() if count > 0}
    starts: list[StartWorker] = []
    progressed = True
    while progressed and any(left.values()):
        progressed = False
        for language in sorted(left):
            candidates = [h for h in up if language in h.languages and room(h, used.get(h.name, 0), size)]
            if not left[language] or not candidates:
                continue
            best = min(
                candidates,
                key=lambda h: (-room(h, used.get(h.name, 0), size), mine.get((h.name, language), 0), h.name),
            )
            starts.append(StartWorker(language, best.name))
            used[best.name] = used.get(best.name, 0) + 1
            mine[best.name, language] = mine.get((best.name, language), 0) + 1
            left[language] -= 1
            progressed = True
    unplaced = {lang: n for lang, n in left.items() if n}
    problems = {lang: shortfall(lang, n, up, used, size) for lang, n in unplaced.items()}
    return Placement(starts, problems, unplaced)


def shortfall(
    language: str, missing: int, up: Sequence[HostView], used: Mapping[str, int], size: WorkerSize
) -> str:
    """Why ``missing`` workers of ``language`` fit on no up host, e.g. ``2 worker(s) do not fit on the up
    hosts: needs 1 more CPUs`` (what a new host, or capacity freed on one, must offer)."""
    if not up:
        return f"{missing} worker(s) not started: no host is up"
    with_image = [h for h in up if language in h.languages]
    if not with_image:
        return f"{missing} worker(s) not started: no up host has the {language} image"
    needs: list[str] = []
    if any(h.cpus - used.get(h.name, 0) * size.cpus < size.cpus - 1e-9 for h in with_image):
        needs.append(f"{_round_up(missing * size.cpus):g} more CPUs")
    if any(h.memory_mb - used.get(h.name, 0) * size.memory_mb < size.memory_mb for h in with_image):
        needs.append(f"{missing * size.memory_mb} MB more memory")
    return f"{missing} worker(s) do not fit on the up hosts: needs {' and '.join(needs)}"


def _round_up(value: float) -> float:
    return math.ceil(value * 100 - 1e-6) / 100
