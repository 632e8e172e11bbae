"""The page by keyboard alone, on a phone-sized screen, and across reloads."""

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.fixtures.cluster import Cluster
from tests.web.conftest import PHONE
from tests.web.editor_page import EditorPage

pytestmark = pytest.mark.e2e


async def tab_to(page: Page, target: Locator, most: int = 25) -> None:
    """Press Tab until ``target`` has the focus (fails after ``most`` presses)."""
    for _ in range(most):
        if await target.evaluate("element => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    await expect(target).to_be_focused()


async def test_keyboard_alone_writes_a_program_adds_a_test_and_runs_it(editor: EditorPage) -> None:
    keyboard = editor.page.keyboard
    await tab_to(editor.page, editor.source)
    await keyboard.press("Control+A")
    # Typed key by key: the editor closes brackets as they open, and steps over the closing ones.
    await keyboard.type("print(int(input()) + 1)")
    await keyboard.press("Escape")  # then Tab leaves the editor instead of indenting
    await keyboard.press("Tab")
    await expect(editor.source).not_to_be_focused()

    add_test = editor.page.get_by_role("button", name="Add test")
    await tab_to(editor.page, add_test)
    await keyboard.press("Enter")
    await expect(editor.page.get_by_role("textbox", name="Input of test 1")).to_be_focused()
    await keyboard.type("41")
    await keyboard.press("Tab")
    await expect(editor.page.get_by_role("textbox", name="Expected output of test 1")).to_be_focused()
    await keyboard.type("42")
    await keyboard.press("Control+Enter")

    await editor.wait_for_verdict("Accepted")
    await expect(editor.test_result(0)).to_contain_text("Accepted")


async def test_at_375px_nothing_overflows_and_run_is_reachable(
    context: BrowserContext, cluster: Cluster, artifacts: Path
) -> None:
    phone = await context.new_page()
    await phone.set_viewport_size(PHONE)
    editor = await EditorPage.open(phone, cluster.api_url)
    await editor.write_program("print(input()[::-1])\n")
    await editor.run_button.click()
    await editor.wait_for_verdict("Accepted")

    overflow = await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 375px screen"
    for control in (editor.language, editor.run_button, editor.source, editor.stdin):
        box = await control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], control
    await phone.screenshot(path=artifacts / "web-375px.png", full_page=True)


async def test_languages_come_from_the_api_and_the_draft_survives_a_reload(
    editor: EditorPage, cluster: Cluster
) -> None:
    offered = await editor.language.locator("option").evaluate_all("options => options.map(o => o.value)")
    listed = await (await editor.page.request.get(f"{cluster.api_url}/api/v1/languages")).json()
    assert offered == [language["id"] for language in listed]
    assert "input()" in await editor.program(), "a starter program is offered"
    # Highlighted: the grammar wraps tokens in styled spans.
    await expect(editor.source.locator(".cm-line span").first).to_be_attached()

    await editor.write_program("print('kept')\n")
    await editor.stdin.fill("some input\n")
    await editor.add_test("1\n", "1\n")
    await editor.page.reload()
    reloaded = await EditorPage.open(editor.page, cluster.api_url)

    assert await reloaded.program() == "print('kept')\n"
    await expect(reloaded.stdin).to_have_value("some input\n")
    await expect(reloaded.page.locator("#test-0-expected_output")).to_have_value("1\n")
    await expect(reloaded.language).to_have_value("python")
