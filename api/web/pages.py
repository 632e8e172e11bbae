"""The browser pages' HTML: one layout (``layout.html``: head, masthead, site navigation, the line shown
until the script starts) around each page's own ``<main>`` (``pages/<name>.html``), rendered once at start.

A page may add to the masthead with ``pages/<name>.masthead.html`` (the editor's shared-submission banner).
"""

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
LAYOUT = WEB_DIR / "layout.html"
PAGES_DIR = WEB_DIR / "pages"
STATIC_DIR = WEB_DIR / "static"

NAV = (("/", "Editor"), ("/problems", "Problems"))
"""The site navigation of every page: address and label."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its ``pages/<name>.html``, what its tab says, the script it starts, the line shown while
    that script loads, and where it sits in the navigation and its skip link go."""

    name: str
    title: str
    entry: str
    loading: str
    current: str | None = None
    """The navigation address that is this page (marked ``aria-current``), if any is."""
    skip_to: tuple[str, str] | None = None
    """A skip link for keyboard users: the target's ``#id`` and what it is."""


EDITOR = Page("editor", "Executioner", "main.js", "Loading the editor…", "/", ("#run", "the Run button"))
PROBLEM_LIST = Page(
    "problem-list", "Problems · Executioner", "problem-list.js", "Loading the problems…", "/problems"
)
PROBLEM = Page(
    "problem",
    "Problem · Executioner",
    "problem.js",
    "Loading the problem…",
    skip_to=("#submit", "the Submit button"),
)
ADMIN_PROBLEM = Page("admin-problem", "New problem · Executioner", "admin-problem.js", "Loading…")


def asset_version(static_dir: Path, entry: str) -> str:
    """A digest of the stylesheet and the page's ``entry`` script: their URLs change when they do."""
    digest = hashlib.sha256()
    for asset in (static_dir / "app.css", static_dir / "build" / entry):
        if asset.is_file():
            digest.update(asset.read_bytes())
        else:
            log.warning("the web page's %s is missing: run `make web` to build it", asset.name)
    return digest.hexdigest()[:16]


def _navigation(current: str | None) -> str:
    links = []
    for href, label in NAV:
        marked = ' aria-current="page"' if href == current else ""
        links.append(f'      <a href="{href}"{marked}>{label}</a>\n')
    return "".join(links)


def render_page(page: Page, pages_dir: Path = PAGES_DIR, static_dir: Path = STATIC_DIR) -> bytes:
    """``page``'s whole HTML, its asset URLs versioned by their content."""
    masthead = pages_dir / f"{page.name}.masthead.html"
    skip = (
        f'  <a class="skip-link" href="{page.skip_to[0]}">Skip to {page.skip_to[1]}</a>\n'
        if page.skip_to
        else ""
    )
    slots = {
        "title": page.title,
        "entry": page.entry,
        "version": asset_version(static_dir, page.entry),
        "skip_link": skip,
        "nav": _navigation(page.current),
        "masthead": masthead.read_text() if masthead.is_file() else "",
        "loading": page.loading,
        "main": (pages_dir / f"{page.name}.html").read_text(),
    }
    html = LAYOUT.read_text()
    for slot, value in slots.items():
        html = html.replace("{{" + slot + "}}", value)
    return html.encode()
