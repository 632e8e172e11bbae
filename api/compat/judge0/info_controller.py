"""Judge0 CE 1.13.1's informational routes under ``/judge0``: languages, statuses, about, version,
configuration, system and workers."""

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.admin.auth import require_admin
from api.admin.repository import read_pools
from api.compat.errors import CompatError, compat_error_handler, judge0_error, judge0_errors
from api.compat.judge0.catalog import MULTI_FILE_ID, MULTI_FILE_NAME, STATUSES, VERSION, judge0_languages
from api.compat.judge0.system import ABOUT, config_info, system_info, workers_view
from api.compat.judge0.wire import (
    Judge0About,
    Judge0ConfigInfo,
    Judge0Language,
    Judge0LanguageName,
    Judge0StatusEntry,
    Judge0Worker,
)
from api.compat.versions import semantic_version
from api.languages.repository import read_versions
from api.lib.openapi import ADMIN_SECURITY
from api.services import Services
from common.runtimes import Runtime
from schemas.jobs import COMPILE_SCRIPT, RUN_SCRIPT


def _name(language_id: int, runtime: Runtime, versions: dict[str, str]) -> str:
    if language_id == MULTI_FILE_ID:
        return MULTI_FILE_NAME
    return f"{runtime.name} ({semantic_version(versions.get(runtime.id))})"


class Judge0InfoController(Controller):
    """What a Judge0 client asks before it submits."""

    path = "/judge0"
    tags = ["judge0"]
    exception_handlers = {CompatError: compat_error_handler}

    @get("/languages", summary="Languages by Judge0 id (Judge0)")
    async def languages(self, services: NamedDependency[Services]) -> list[Judge0LanguageName]:
        """Every Judge0 id this cluster runs, sorted; several ids may run on one runtime (all of
        Judge0's GCC versions run the image's GCC)."""
        versions = await read_versions(services.engine)
        catalog = judge0_languages(services.runtimes)
        return [{"id": i, "name": _name(i, catalog[i], versions)} for i in sorted(catalog)]

    @get(
        "/languages/{language_id:str}",
        summary="A language (Judge0)",
        responses=judge0_errors(
            {
                400: "Never sent: an id that is not a number is not found (404).",
                404: "No language with this id.",
            }
        ),
    )
    async def language(
        self, language_id: FromPath[str], services: NamedDependency[Services]
    ) -> Judge0Language:
        """The language with its source file name and compile and run commands."""
        catalog = judge0_languages(services.runtimes)
        runtime = catalog.get(int(language_id)) if language_id.isdigit() else None
        if runtime is None:
            raise judge0_error(404, "Not Found")
        versions = await read_versions(services.engine)
        if int(language_id) == MULTI_FILE_ID:  # Judge0's own entry: its scripts are the commands
            return {
                "id": MULTI_FILE_ID,
                "name": MULTI_FILE_NAME,
                "is_archived": False,
                "source_file": None,
                "compile_cmd": f"/bin/bash {COMPILE_SCRIPT}",
                "run_cmd": f"/bin/bash {RUN_SCRIPT}",
            }
        return {
            "id": int(language_id),
            "name": _name(int(language_id), runtime, versions),
            "is_archived": False,
            "source_file": runtime.source_file,
            "compile_cmd": " ".join(runtime.compile) if runtime.compile else None,
            "run_cmd": " ".join(runtime.run),
        }

    @get("/statuses", summary="Submission statuses (Judge0)")
    async def statuses(self) -> list[Judge0StatusEntry]:
        """Judge0's status ids 1-14 with their descriptions."""
        return [{"id": i, "description": text} for i, text in STATUSES.items()]

    @get("/about", summary="About (Judge0)")
    async def about(self) -> Judge0About:
        """The Judge0 version this API follows (1.13.1), which the judge0 SDK reads."""
        return ABOUT

    @get("/version", media_type=MediaType.TEXT, summary="Version (Judge0)")
    async def version(self) -> Response[str]:
        """The Judge0 version this API follows, as plain text."""
        return Response(VERSION, media_type=MediaType.TEXT)

    @get("/config_info", summary="Configuration (Judge0)")
    async def config_info(self, services: NamedDependency[Services]) -> Judge0ConfigInfo:
        """Defaults and maximums in Judge0's terms; features not supported yet say ``false``."""
        settings = services.settings
        return config_info(
            services.runtimes.values(), settings.max_files_bytes, settings.webhook_secret is not None
        )

    @get("/system_info", summary="System (Judge0)")
    async def system_info(self) -> dict[str, str]:
        """The API host's architecture, CPUs and memory."""
        return system_info()

    @get("/workers", guards=[require_admin], security=ADMIN_SECURITY, summary="Workers per language (Judge0)")
    async def workers(self, services: NamedDependency[Services]) -> list[Judge0Worker]:
        """Each language's queue and workers, from the master's pool reports (admin token)."""
        snapshot = await read_pools(services.engine)
        return workers_view(services.runtimes, snapshot)
