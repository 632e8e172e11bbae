"""The page in real Chromium against a real cluster: write a program, run it, watch it live, share it."""

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.fixtures.cluster import LIVE_ONLY, Cluster
from tests.web.conftest import DESKTOP
from tests.web.editor_page import RUN_TIMEOUT_MS, EditorPage

pytestmark = pytest.mark.e2e

DOUBLER = "n = int(input())\nprint(n * 2)\n"
STUCK_AT_TWO = "import threading\nn = int(input())\nif n == 2:\n    threading.Event().wait()\nprint(n)\n"
RECORD_ROWS_PER_EVENT = """() => {
  window.rowsWhen = {};
  new MutationObserver((changes) => {
    for (const change of changes)
      for (const item of change.addedNodes)
        window.rowsWhen[item.dataset.seq] = [...document.getElementById("test-results").children].map(
          (row) => row.textContent,
        );
  }).observe(document.getElementById("timeline"), { childList: true });
}"""
"""Records, as each live event is logged, what every test row of the page says then (``rowsWhen[seq]``).
Each SSE event is a task of its own, so this sees the page between two events however close together
they arrive: no program has to sleep to hold a window open."""


async def test_two_tests_show_their_verdicts_live_in_order_then_the_final_verdict(
    editor: EditorPage, artifacts: Path
) -> None:
    await editor.page.evaluate(RECORD_ROWS_PER_EVENT)
    await editor.write_program("n = int(input())\nprint(n * 2)\n")
    await editor.add_test("1\n", "2\n")
    await editor.add_test("2\n", "5\n")
    await editor.run_button.click()

    first, second = editor.test_result(0), editor.test_result(1)
    await editor.wait_for_verdict("Wrong answer")
    await expect(first).to_contain_text("Accepted")
    await expect(second).to_contain_text("Wrong answer")
    rows_when: dict[str, list[str]] = await editor.page.evaluate("window.rowsWhen")
    (one, two), (_, two_later) = rows_when["2"], rows_when["3"]  # test i's event is seq 2+i
    assert "Accepted" in one and "Waiting" in two, "test 1's verdict was shown while test 2 waited"
    assert "Wrong answer" in two_later

    # Colour and words: each verdict is a badge named in text, coloured by its data-verdict.
    assert await first.locator(".verdict").get_attribute("data-verdict") == "accepted"
    assert await editor.verdict.get_attribute("data-verdict") == "wrong_answer"
    colour = await editor.verdict.evaluate("badge => getComputedStyle(badge).backgroundColor")
    assert colour == "rgb(179, 38, 30)"  # --bad
    assert "Output of test 2" in await second.inner_text()
    # Live events, each once and in order: queued or running first, test 0 (seq 2), test 1 (3), result (4).
    seqs = await editor.timeline()
    assert seqs == sorted(set(seqs)) and seqs[-3:] == [2, 3, 4], seqs
    await editor.page.screenshot(path=artifacts / "web-run-finished.png", full_page=True)


async def test_a_syntax_error_is_the_error_verdict_with_the_traceback(editor: EditorPage) -> None:
    # Python compiles as it runs: its SyntaxError is the run's error, with the traceback on stderr.
    await editor.write_program("print('unclosed'\n")
    await editor.run_button.click()

    await editor.wait_for_verdict("Runtime error")
    assert "SyntaxError" in await editor.output("stderr")
    assert await editor.output("stdout") == "(empty)"


async def test_a_compile_error_shows_the_compiler_output(editor: EditorPage, cluster: Cluster) -> None:
    await editor.language.select_option("c")
    await expect(editor.source).to_contain_text("#include <stdio.h>")  # C's starter program
    await editor.write_program("int main(void) { return undeclared; }\n")
    await editor.run_button.click()

    await editor.wait_for_verdict("Compilation error")
    assert "undeclared" in await editor.output("Compiler output")
    await expect(editor.page.locator("#outputs h3")).to_have_count(1)  # it never ran: no stdout, stderr


@pytest.mark.parametrize(
    ("setup", "field_label", "message"),
    [
        ("limits", "CPU time per test, ms", "limits.time_ms"),
        ("empty", "", "source is required"),
    ],
)
async def test_a_refused_request_shows_the_error_at_its_field(
    editor: EditorPage, setup: str, field_label: str, message: str
) -> None:
    if setup == "limits":
        await editor.page.get_by_text("Limits (optional)").click()
        await editor.limit(field_label).fill("999999")
        field = editor.limit(field_label)
        error = editor.page.locator('[id="error-limits.time_ms"]')
    else:
        await editor.write_program("")
        field = editor.source
        error = editor.page.locator("#error-source")
    await editor.run_button.click()

    await expect(error).to_be_visible()
    await expect(error).to_contain_text(message)
    await expect(field).to_be_focused()
    if setup == "limits":
        await expect(field).to_have_attribute("aria-invalid", "true")
    assert await editor.page.locator(".field-error:visible").count() == 1
    await expect(editor.page.locator("#result")).to_be_hidden()


async def test_a_shared_link_shows_the_finished_submission_in_a_new_page(
    editor: EditorPage, browser: Browser, cluster: Cluster
) -> None:
    await editor.write_program(DOUBLER)
    await editor.add_test("21\n", "42\n")
    await editor.run_button.click()
    await editor.wait_for_verdict("Accepted")
    link = await editor.page.get_by_role("link", name="Link to this run").get_attribute("href")
    assert link and link.startswith("/s/")

    # Someone else's browser: nothing of the author's draft, only the link.
    other = await browser.new_context(viewport=DESKTOP)
    try:
        shared = await EditorPage.open(await other.new_page(), cluster.api_url, link)
        await shared.wait_for_verdict("Accepted")
        assert await shared.program() == DOUBLER
        await expect(shared.page.locator("#test-0-stdin")).to_have_value("21\n")
        await expect(shared.page.locator("#test-0-expected_output")).to_have_value("42\n")
        await expect(shared.test_result(0)).to_contain_text("Accepted")
        await expect(shared.page.get_by_text("Shared submission, read-only.")).to_be_visible()
        await expect(shared.run_button).to_be_hidden()
        await expect(shared.source).to_have_attribute("aria-readonly", "true")

        await shared.page.get_by_role("button", name="Edit a copy").click()
        await shared.page.wait_for_url(cluster.api_url + "/")  # back at the editor, with it as the draft
        copied = EditorPage(shared.page)
        await expect(copied.source).to_contain_text("print(n * 2)")
        assert await copied.program() == DOUBLER
        await expect(copied.page.locator("#test-0-expected_output")).to_have_value("42\n")
        await expect(copied.run_button).to_be_visible()
    finally:
        await other.close()


async def test_a_shared_link_of_a_running_submission_follows_it_live(
    editor: EditorPage, browser: Browser, cluster: Cluster
) -> None:
    # The shared page is served by an API whose streams do not re-read MySQL during the test: it can
    # only hear of the run through that replica's live fan-out of the results topic.
    async with cluster.extra_api(LIVE_ONLY) as live_url:
        other = await browser.new_context(viewport=DESKTOP)
        try:
            async with cluster.workers_held("python"):  # the job waits until the shared page follows it
                await editor.write_program("print('late')\n")
                await editor.run_button.click()
                share = editor.page.get_by_role("link", name="Link to this run")
                await expect(share).to_have_attribute("href", re.compile("^/s/"))
                link = await share.get_attribute("href")
                assert link
                shared = await EditorPage.open(await other.new_page(), live_url, link)
                await expect(shared.verdict).to_have_attribute("data-verdict", "queued")
                # The stream's first frame (queued, seq 0) comes after it subscribed to the fan-out.
                await expect(shared.page.locator('#timeline li[data-seq="0"]')).to_be_attached()
            await shared.wait_for_verdict("Accepted")
            assert await shared.output("stdout") == "late\n"
            assert await shared.timeline() == [0, 1, 2], "queued, then running and the result, live"
        finally:
            await other.close()


async def test_the_result_arrives_although_the_api_serving_the_page_restarts_mid_run(
    page: Page, cluster: Cluster
) -> None:
    async with cluster.extra_api() as url:
        editor = await EditorPage.open(page, url)
        # Test 2 waits for nothing until its wall limit (3 x CPU time, 15 s): the run is certainly mid-way
        # (test 1 shown, test 2 not) until then, long enough to hold its worker there while the API
        # restarts (6 s was not always enough on a loaded CI machine).
        await editor.write_program(STUCK_AT_TWO)
        await editor.page.get_by_text("Limits (optional)").click()
        await editor.limit("CPU time per test, ms").fill("5000")
        await editor.add_test("1\n", "1\n")
        await editor.add_test("2\n", "2\n")
        await editor.run_button.click()
        await expect(editor.test_result(0)).to_contain_text("Accepted", timeout=RUN_TIMEOUT_MS)

        async with cluster.workers_held("python"), cluster.api_stopped(url):
            await expect(editor.connection).to_have_text("Connection lost; reconnecting…")
        await editor.wait_for_verdict("Time limit exceeded")

        await expect(editor.test_result(1)).to_contain_text("Time limit exceeded")
        seqs = await editor.timeline()
        assert seqs == sorted(set(seqs)) and seqs[-1] == 4, seqs  # nothing lost twice-shown or out of order
        assert 2 in seqs, "test 1's verdict was shown live, before the restart"


async def test_a_network_failure_says_so_and_retry_sends_the_program(editor: EditorPage) -> None:
    async def unreachable(route: Route) -> None:
        await route.abort("connectionrefused")

    await editor.page.route("**/api/v1/submissions", unreachable)
    await editor.write_program("print('second try')\n")
    await editor.run_button.click()
    await expect(editor.notice).to_contain_text("could not be reached")
    retry = editor.notice.get_by_role("button", name="Retry")
    await expect(retry).to_be_focused()

    await editor.page.unroute("**/api/v1/submissions", unreachable)
    await retry.click()
    await editor.wait_for_verdict("Accepted")
    assert await editor.output("stdout") == "second try\n"
    await expect(editor.notice).to_be_hidden()
