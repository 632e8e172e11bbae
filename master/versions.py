"""Records each language's toolchain version (``runtime_versions``) once per worker image id, for the
API's ``/languages``."""

import logging
from collections.abc import Mapping

from common.runtimes import Runtime
from master.docker_adapter import DockerAdapter, VersionCommandFailed
from master.store import Store

log = logging.getLogger(__name__)


class VersionRecorder:
    """Runs a runtime's ``version`` command in a new image, and only in a new one."""

    def __init__(self, docker: DockerAdapter, store: Store, runtimes: Mapping[str, Runtime]) -> None:
        self._docker = docker
        self._store = store
        self._runtimes = runtimes
        self._done: dict[str, str] = {}
        """Language → the image id already handled (recorded, or whose version command failed)."""

    async def ensure(self, language: str, image_id: str) -> None:
        """Record the version of ``language`` in ``image_id`` unless it is recorded already.

        A failing version command is logged and not retried for the same image; a database error
        propagates, and the next call tries again.
        """
        if self._done.get(language) == image_id:
            return
        if await self._store.recorded_image_id(language) != image_id:
            command = self._runtimes[language].version
            try:
                version = await self._docker.run_version(image_id, command)
            except VersionCommandFailed as exc:
                log.error("version of %s in image %s unknown: %s", language, image_id[:19], exc)
                self._done[language] = image_id
                return
            await self._store.record_version(language, image_id, version)
            log.info("%s in image %s: %s", language, image_id[:19], version)
        self._done[language] = image_id
