"""The master's memory of recent worker failures: the input of the crash-loop back-off and the
"last errors" of each pool's report."""

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta

from master.model import Failure, ObservedContainer


class FailureHistory:
    """Recent failures per language, at most one per container, forgotten after ``window_s``."""

    def __init__(self, window_s: float, keep: int = 20) -> None:
        self._window = timedelta(seconds=window_s)
        self._keep = keep
        self._by_language: dict[str, list[Failure]] = {}

    def record_dead(self, containers: Iterable[ObservedContainer], now: datetime) -> list[Failure]:
        """Record each dead container once (it may be seen again if removing it failed); returns the new
        failures."""
        known = {f.container_id for failures in self._by_language.values() for f in failures}
        new = [Failure.of_container(c, now) for c in containers if c.id not in known]
        for failure in new:
            self._add(failure, now)
        return new

    def record_start_error(self, language: str, error: str, now: datetime) -> None:
        """Record a worker that could not be started at all."""
        self._add(Failure(language=language, at=now, error=error), now)

    def attach_logs(self, container_id: str, logs: str) -> None:
        """Keep the last log lines of a dead container (read just before it was removed)."""
        for failures in self._by_language.values():
            for i, failure in enumerate(failures):
                if failure.container_id == container_id:
                    failures[i] = dataclasses.replace(failure, logs=logs)

    def times(self, now: datetime) -> dict[str, list[datetime]]:
        """Failure times per language inside the window (the planner's input)."""
        self._forget_old(now)
        return {language: [f.at for f in failures] for language, failures in self._by_language.items()}

    def latest(self, language: str, count: int = 5) -> list[Failure]:
        """The most recent failures of ``language``, newest first."""
        return sorted(self._by_language.get(language, []), key=lambda f: f.at, reverse=True)[:count]

    def _add(self, failure: Failure, now: datetime) -> None:
        failures = self._by_language.setdefault(failure.language, [])
        failures.append(failure)
        failures.sort(key=lambda f: f.at)
        del failures[: -self._keep]
        self._forget_old(now)

    def _forget_old(self, now: datetime) -> None:
        horizon = now - self._window
        for language in list(self._by_language):
            kept = [f for f in self._by_language[language] if f.at >= horizon]
            if kept:
                self._by_language[language] = kept
            else:
                del self._by_language[language]
