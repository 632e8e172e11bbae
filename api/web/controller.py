"""The browser pages: ``/`` (write, run and watch a program), ``/s/{id}`` (a shared submission), the
stored problems (``/problems``, ``/problems/{slug}``) and the admin's ``/admin/problems/new``, with their
assets under ``/static``. The pages are static; everything they show comes from the JSON API and its SSE.

The scripts under ``static/build/`` are bundled from ``frontend/`` by ``make web`` (npm + esbuild); without
them a page says so instead of failing silently.
"""

from litestar import MediaType, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from api.keys.guard import route_opt
from api.lib.openapi import KEY_SECURITY
from api.web.pages import ADMIN_PROBLEM, EDITOR, PROBLEM, PROBLEM_LIST, STATIC_DIR, render_page

# The pages talk to their own origin only. CodeMirror adds <style> elements at run time, hence inline
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


def web_routes() -> list[ControllerRouterHandler]:
    """The pages' routes; the HTML is rendered once, here (the assets do not change while serving)."""
    page, problem_list, problem, admin_problem = map(
        render_page, (EDITOR, PROBLEM_LIST, PROBLEM, ADMIN_PROBLEM)
    )

    def page_response(html: bytes = page) -> Response[bytes]:
        return Response(html, media_type=MediaType.HTML, headers=PAGE_HEADERS)

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

    # The problem pages are as public as the editor: with keys on, the API calls they make are what is
    # guarded (the admin page sends the admin token the user pastes, on the admin routes only).
    @get("/problems", include_in_schema=False, sync_to_thread=False)
    def problem_list_page() -> Response[bytes]:
        """Every stored problem, each a link to its page."""
        return page_response(problem_list)

    @get("/problems/{slug:str}", include_in_schema=False, sync_to_thread=False)
    def problem_page(slug: FromPath[str]) -> Response[bytes]:
        """A problem's statement and samples, with the editor to submit to it; the script loads ``slug``."""
        return page_response(problem)

    @get("/admin/problems/new", include_in_schema=False, sync_to_thread=False)
    def admin_problem_page() -> Response[bytes]:
        """The admin's form: create a problem, upload its tests as a zip."""
        return page_response(admin_problem)

    static = create_static_files_router(
        path="/static", directories=[STATIC_DIR], name="web-static", cache_control=ASSET_CACHE
    )
    return [editor_page, shared_page, problem_list_page, problem_page, admin_problem_page, static]
