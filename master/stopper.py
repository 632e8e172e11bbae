"""Graceful stops of surplus workers, in the background so the reconcile loop never waits for a drain."""

import asyncio
import logging
from collections.abc import Callable

from master.docker_adapter import DockerAdapter
from master.metrics import reconcile_actions
from master.model import ObservedContainer

log = logging.getLogger(__name__)


class Stopper:
    """Owns one task per container being stopped (named ``stop-<container name>``).

    Their ids are the planner's ``stopping`` input: a worker that is draining is neither counted nor
    stopped twice. Each task ends by calling ``on_done`` so the loop re-plans at once. These are short
    per-container tasks that come and go, which is why they are tracked here by container id rather than
    in the process's long-lived TaskGroup.
    """

    def __init__(
        self, docker: Callable[[str], DockerAdapter | None], grace_s: float, on_done: Callable[[], None]
    ) -> None:
        self._docker = docker
        """The engine of a host, by name (None while the host is not connected)."""
        self._grace_s = grace_s
        self._on_done = on_done
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def stopping(self) -> frozenset[str]:
        """Ids of the containers being stopped."""
        return frozenset(self._tasks)

    def stop(self, container: ObservedContainer) -> None:
        """Stop and remove ``container`` in the background (nothing happens if that is under way)."""
        if container.id in self._tasks:
            return
        log.info("stopping %s (%s), up to %.0fs to drain", container.name, container.language, self._grace_s)
        task = asyncio.create_task(self._stop(container), name=f"stop-{container.name}")
        self._tasks[container.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(container.id, None))

    async def _stop(self, container: ObservedContainer) -> None:
        try:
            docker = self._docker(container.host)
            if docker is None:
                raise RuntimeError(f"host {container.host!r} is not connected")
            await docker.stop_and_remove(container.id, self._grace_s)
            log.info("stopped and removed %s", container.name)
            reconcile_actions.labels(container.language, "stop", "ok").inc()
        except Exception:
            reconcile_actions.labels(container.language, "stop", "failed").inc()
            # The container is still there; the next pass sees it and decides again.
            log.exception("could not stop %s", container.name)
        finally:
            self._on_done()

    async def drain(self) -> None:
        """Wait for every stop under way (each is bounded by the grace period and Docker's own timeout)."""
        if self._tasks:
            log.info("waiting for %d worker(s) to stop", len(self._tasks))
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
