"""Worker images on every host: each host must run the image ids the master's own engine holds.

The images are built on the master's engine (``make images``, or a CI job on that machine). For every
other host the master compares image ids and ships what is missing or stale with ``docker save`` on its
engine streamed into ``docker load`` on the host's, through the docker SDK. Why not a registry: it
needs no extra service or TLS set-up, works where nothing can be pulled from the internet, and a worker
image changes only when the code does; a registry pays off with many hosts pulling in parallel
(deploy/README.md). A copy that fails is reported (``images_ok: false`` and the error) and tried again
only when the image changes or the host comes back, never in a loop.
"""

import asyncio
import logging
from collections.abc import Mapping

from master.docker_adapter import DockerAdapter
from master.hosts import Engine

log = logging.getLogger(__name__)


class ImageSync:
    """Which languages each host can run now, and the copies under way (one task per host)."""

    def __init__(self, reference: DockerAdapter, images: Mapping[str, str]) -> None:
        self._reference = reference
        self._images = dict(images)
        """Language → image name."""
        self._failed: dict[tuple[str, str, str], str] = {}
        """(host, language, wanted image id) → why the copy failed."""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._shipping: dict[str, list[str]] = {}

    async def ready(
        self, engine: Engine, wanted: Mapping[str, str | None]
    ) -> tuple[frozenset[str], str | None]:
        """The languages whose image on ``engine`` has the wanted id, and what is wrong with the rest;
        starts a copy of the missing ones unless it failed before for the same image."""
        assert engine.adapter is not None
        if engine.recovered:
            self._failed = {key: error for key, error in self._failed.items() if key[0] != engine.name}
        ok, missing, problems = set(), [], []
        for language, image_id in wanted.items():
            if image_id is None:
                continue
            if await engine.adapter.image_id(self._images[language]) == image_id:
                ok.add(language)
            elif (error := self._failed.get((engine.name, language, image_id))) is not None:
                problems.append(f"{self._images[language]} could not be copied: {error}")
            else:
                missing.append(language)
        if missing and engine.name not in self._tasks:
            self._tasks[engine.name] = asyncio.create_task(
                self._ship(engine, missing, dict(wanted)), name=f"ship-images-{engine.name}"
            )
            self._shipping[engine.name] = missing
        # A copy that just landed is there before its task has ended: only what is still missing is news.
        copying = [lang for lang in self._shipping.get(engine.name, ()) if lang not in ok]
        if copying:
            problems.append("copying " + ", ".join(self._images[lang] for lang in copying))
        return frozenset(ok), "; ".join(problems) or None

    async def _ship(self, engine: Engine, languages: list[str], wanted: Mapping[str, str | None]) -> None:
        try:
            for language in languages:
                image, image_id = self._images[language], wanted[language]
                assert image_id is not None and engine.adapter is not None
                log.info("host %s lacks %s: copying it from the master's engine", engine.name, image)
                try:
                    await self._reference.ship_image(image, engine.adapter)
                except Exception as exc:  # reported on the host; tried again only for a new image
                    log.error("could not copy %s to host %s: %s", image, engine.name, exc)
                    self._failed[engine.name, language, image_id] = f"{type(exc).__name__}: {exc}"[:300]
                else:
                    log.info("copied %s to host %s", image, engine.name)
        finally:
            self._tasks.pop(engine.name, None)
            self._shipping.pop(engine.name, None)

    async def close(self) -> None:
        """Cancel the copies under way."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
