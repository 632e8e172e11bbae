"""The browser page: ``/`` (write, run and watch a program) and ``/s/{id}`` (a shared submission), with its
assets under ``/static``. The page is static; everything it shows comes from the JSON API and its SSE.

The script under ``static/build/`` is bundled from ``frontend/`` by ``make web`` (npm + esbuild); without
it the page says so instead of failing silently.
"""

import hashlib
import logging
from pathlib import Path

from litestar import MediaType, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from api.keys.guard import route_opt
from api.lib.openapi import KEY_SECURITY

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
PAGE_TEMPLATE = WEB_DIR / "page.html"
STATIC_DIR = WEB_DIR / "static"

# The page talks to its own origin only. CodeMirror adds <style> elements at run time, hence inline
# styles; scripts are the bundle's files, never inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",  # always revalidated: it names the current assets
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Asset URLs carry a version (the entry script's and stylesheet's hash) or a content hash in the name
# (esbuild's chunks), so a day of caching never serves a stale page.
ASSET_CACHE = CacheControlHeader(max_age=86_400, public=True)


def render_page(template: Path = PAGE_TEMPLATE, static_dir: Path = STATIC_DIR) -> bytes:
    """The page's HTML, with asset URLs versioned by the assets' content."""
    digest = hashlib.sha256()
    for asset in (static_dir / "app.css", static_dir / "build" / "main.js"):
        if asset.is_file():
            digest.update(asset.read_bytes())
        else:
            log.warning("the web page's %s is missing: run `make web` to build it", asset.name)
    return template.read_text().replace("{{version}}", digest.hexdigest()[:16]).encode()


def web_routes() -> list[ControllerRouterHandler]:
    """The page's routes; the HTML is rendered once, here (the assets do not change while serving)."""
    page = render_page()

    def page_response() -> Response[bytes]:
        return Response(page, media_type=MediaType.HTML, headers=PAGE_HEADERS)

    @get("/", include_in_schema=False, sync_to_thread=False)
    def editor_page() -> Response[bytes]:
        """The editor, with the draft kept in the browser."""
        return page_response()

    # With keys on, the page itself is shown only to the owner's key, admins and share links.
    @get(
        "/s/{submission_id:str}",
        include_in_schema=False,
        sync_to_thread=False,
        security=KEY_SECURITY,
        opt=route_opt("read", owned="submission_id", shared=True),
    )
    def shared_page(submission_id: FromPath[str]) -> Response[bytes]:
        """A submission's shareable page; the script loads ``submission_id`` (or says there is none)."""
        return page_response()

    static = create_static_files_router(
        path="/static", directories=[STATIC_DIR], name="web-static", cache_control=ASSET_CACHE
    )
    return [editor_page, shared_page, static]
