"""Every page is the one layout around its own ``<main>``: the same masthead and navigation, its own
script, no slot left unfilled (pure rendering, no server)."""

import re
from pathlib import Path

import pytest

from api.web.pages import ADMIN_PROBLEM, EDITOR, NAV, PROBLEM, PROBLEM_LIST, Page, render_page

pytestmark = pytest.mark.unit

PAGES = [EDITOR, PROBLEM_LIST, PROBLEM, ADMIN_PROBLEM]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_each_page_is_the_layout_around_its_own_main(page: Page) -> None:
    html = render_page(page).decode()
    assert "{{" not in html and "}}" not in html
    assert html.count("<main ") == 1 and html.count('id="app"') == 1
    assert f"<title>{page.title}</title>" in html
    assert re.findall(r'<script[^>]*src="([^"?]+)', html) == [f"/static/build/{page.entry}"]
    assert html.count('class="masthead"') == 1 and html.count('id="boot-message"') == 1
    assert page.loading in html
    links = re.findall(
        r'<a href="([^"]+)"( aria-current="page")?>', html.split("<nav", 1)[1].split("</nav>")[0]
    )
    assert [href for href, _ in links] == [href for href, _ in NAV]
    assert [href for href, current in links if current] == ([page.current] if page.current else [])


def test_the_masthead_of_the_editor_carries_its_share_banner_only() -> None:
    banners = {page.name: 'id="share-banner"' in render_page(page).decode() for page in PAGES}
    assert banners == {"editor": True, "problem-list": False, "problem": False, "admin-problem": False}
    header = render_page(EDITOR).decode().split("<header", 1)[1].split("</header>")[0]
    assert 'id="edit-copy"' in header


def test_a_changed_script_changes_the_version_its_page_names(tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "build").mkdir(parents=True)
    (static / "app.css").write_text("body {}")
    script = static / "build" / EDITOR.entry
    script.write_text("one")
    first = render_page(EDITOR, static_dir=static)
    script.write_text("two")
    assert render_page(EDITOR, static_dir=static) != first
    assert render_page(EDITOR, static_dir=static) == render_page(EDITOR, static_dir=static)
