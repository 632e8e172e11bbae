"""The problem pages in real Chromium against a real cluster: the list, a problem's statement (rendered
safely), samples and stub, a solution judged live with its score, and the admin's form."""

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.fixtures.cluster import Cluster
from tests.web.conftest import PHONE
from tests.web.problem_pages import ADMIN, ADMIN_TOKEN, ProblemPage, create_problem, new_slug, zip_of

pytestmark = pytest.mark.e2e

HOSTILE_STATEMENT = """# The task

Print **a + b** for `a` and `b`, see [the docs](https://example.invalid/docs).

<script>window.pwned = "script"</script>

<img src="x" onerror="window.pwned = 'img'">

[a trap](javascript:window.pwned='link')

- first
- second
"""
STUB = "def add(a, b):\n    ...\n"
DRIVER = "{{user_code}}\nprint(add(*map(int, input().split())))\n"
SCORED_TESTS = [
    {"input": "1 2\n", "expected_output": "3\n", "sample": True},
    {"input": "2 2\n", "expected_output": "4\n", "sample": True},
    {"input": "1000000 1\n", "expected_output": "1000001\n", "points": 50, "group": "big"},
    {"input": "-5 5\n", "expected_output": "0\n", "points": 50, "group": "big"},
]
LEAK = "LEAKED-FROM-A-HIDDEN-TEST"
"""What a wrong solution prints on stderr for a hidden test only: the page must never show it (the
program builds it from two halves, so its source in the editor does not hold it)."""


async def scored_problem(cluster: Cluster) -> str:
    slug = new_slug()
    stubs = {"python": {"template": STUB, "driver": DRIVER}}
    await create_problem(cluster.api_url, slug, statement=HOSTILE_STATEMENT, tests=SCORED_TESTS, stubs=stubs)
    return slug


async def test_the_list_shows_a_created_problem_and_links_to_its_page(page: Page, cluster: Cluster) -> None:
    slug = new_slug()
    await create_problem(cluster.api_url, slug, title="<b>Bold</b> & title")
    await page.goto(f"{cluster.api_url}/problems")

    link = page.get_by_role("link", name=slug, exact=True)
    await expect(link).to_be_visible()
    row = page.get_by_role("row").filter(has=link)
    await expect(row.get_by_role("cell").nth(1)).to_have_text("<b>Bold</b> & title")  # as text, not HTML
    await link.click()
    await page.wait_for_url(f"{cluster.api_url}/problems/{slug}")
    await expect(page.get_by_role("heading", name="<b>Bold</b> & title")).to_be_visible()


async def test_the_statement_is_rendered_and_its_html_is_only_text(page: Page, cluster: Cluster) -> None:
    slug = await scored_problem(cluster)
    problem = await ProblemPage.open(page, cluster.api_url, slug)

    statement = problem.statement
    await expect(statement.get_by_role("heading", name="The task")).to_be_visible()
    await expect(statement.locator("strong")).to_have_text("a + b")
    await expect(statement.locator("code").first).to_have_text("a")
    await expect(statement.get_by_role("link", name="the docs")).to_have_attribute(
        "href", "https://example.invalid/docs"
    )
    await expect(statement.get_by_role("listitem")).to_have_text(["first", "second"])
    # The author's HTML is shown as the text it is: no element made of it, nothing of it run.
    await expect(statement).to_contain_text('<script>window.pwned = "script"</script>')
    await expect(statement).to_contain_text("<img src=")
    for tag in ("script", "img", "iframe"):
        await expect(statement.locator(tag)).to_have_count(0)
    await expect(statement.locator('a[href^="javascript"]')).to_have_count(0)
    await expect(statement).to_contain_text("a trap")
    assert await page.evaluate("window.pwned") is None

    await expect(problem.sample("Input", 1)).to_have_text("1 2\n")
    await expect(problem.sample("Expected output", 1)).to_have_text("3\n")
    await expect(problem.sample("Input", 2)).to_have_text("2 2\n")
    await expect(page.get_by_text("1000000 1")).to_have_count(0)  # a hidden test is no sample
    await expect(page.locator("#problem-limits")).to_contain_text("4 tests")


async def test_the_stub_is_in_the_editor_and_only_its_languages_are_offered(
    page: Page, cluster: Cluster
) -> None:
    slug = await scored_problem(cluster)
    problem = await ProblemPage.open(page, cluster.api_url, slug)

    assert await problem.program() == STUB.rstrip("\n") + "\n"
    offered = await problem.language.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert offered == ["python"], "a problem with stubs accepts only its stubs' languages"


async def test_an_accepted_solution_shows_accepted_live_with_its_score(
    page: Page, cluster: Cluster, artifacts: Path
) -> None:
    slug = await scored_problem(cluster)
    problem = await ProblemPage.open(page, cluster.api_url, slug)
    await problem.write_program("def add(a, b):\n    return a + b\n")
    await problem.submit_button.click()

    await problem.wait_for_verdict("Accepted")
    await expect(page.locator("#timeline li").last).to_contain_text("result Accepted")  # from the stream
    await expect(problem.score).to_contain_text("Score: 100 / 100")
    group = problem.score.get_by_role("list", name="Test groups").get_by_role("listitem")
    await expect(group).to_have_count(1)
    await expect(group).to_contain_text("Group big")
    await expect(group).to_contain_text("100 / 100")
    await expect(group).to_have_attribute("data-passed", "true")
    for index in range(4):
        await expect(problem.test_result(index)).to_contain_text("Accepted")
    await expect(problem.test_result(0)).to_contain_text("Output of test 1")  # a sample: shown fully
    await expect(problem.test_result(2)).to_contain_text("Test 3 (hidden)")
    await page.screenshot(path=artifacts / "web-problem-accepted.png", full_page=True)


async def test_a_wrong_solution_shows_wrong_answer_and_hidden_tests_stay_hidden(
    page: Page, cluster: Cluster
) -> None:
    slug = await scored_problem(cluster)
    problem = await ProblemPage.open(page, cluster.api_url, slug)
    # Right on the samples; on the big hidden test, wrong and chatty on stderr.
    await problem.write_program(
        "import sys\n\ndef add(a, b):\n    if a > 100:\n"
        f"        print('{LEAK[:7]}' + '{LEAK[7:]}', file=sys.stderr)\n"
        "        return a - b\n    return a + b\n"
    )
    await problem.submit_button.click()

    await problem.wait_for_verdict("Wrong answer")
    await expect(problem.score).to_contain_text("Score: 0 / 100")
    await expect(problem.score).to_contain_text("not all tests passed")
    await expect(problem.test_result(0)).to_contain_text("Accepted")
    hidden = problem.test_result(2)
    await expect(hidden).to_contain_text("Test 3 (hidden)")
    await expect(hidden).to_contain_text("Wrong answer")
    await expect(hidden).to_contain_text(re.compile(r"\d+ ms CPU"))  # its time and memory, nothing else
    await expect(hidden).not_to_contain_text("exit code")
    await expect(hidden.locator("details")).to_have_count(0)
    html = await page.content()
    assert LEAK not in html and "1000001" not in html and "999999" not in html


async def test_the_admin_page_creates_a_problem_and_uploads_its_tests(page: Page, cluster: Cluster) -> None:
    slug = new_slug()
    await page.goto(f"{cluster.api_url}/admin/problems/new")
    await page.get_by_label("Admin token", exact=True).fill(ADMIN_TOKEN)
    await page.get_by_label("Slug", exact=True).fill("Not A Slug")
    await page.get_by_label("Title").fill("Doubling")
    await page.get_by_label("Statement (Markdown)").fill("Print *2n*.")
    await page.get_by_label("CPU time per test, ms").fill("3000")
    await page.get_by_label("Comparison").select_option("tokens")
    await page.get_by_label("Input", exact=True).fill("1\n")
    await page.get_by_label("Expected output", exact=True).fill("2\n")
    create = page.get_by_role("button", name="Create problem")
    await create.click()
    # The API's 422 names the slug: shown there, where the keyboard focus goes.
    await expect(page.locator("#error-slug")).to_contain_text("slug")
    await expect(page.get_by_label("Slug", exact=True)).to_be_focused()
    await expect(page.get_by_label("Slug", exact=True)).to_have_attribute("aria-invalid", "true")

    await page.get_by_label("Slug", exact=True).fill(slug)
    await create.click()
    await expect(page.locator("#create-status")).to_contain_text(f"Created {slug} (version 1)")
    await expect(page.locator(".field-error:visible")).to_have_count(0)

    archive = zip_of(
        {
            "1.in": "1\n",
            "1.out": "2\n",
            "2.in": "21\n",
            "2.out": "42\n",
            "problem.json": '{"tests": {"1": {"sample": true}}}',
        }
    )
    await expect(page.get_by_label("Problem slug")).to_have_value(slug)
    await page.get_by_label("Zip archive").set_input_files(
        {"name": "tests.zip", "mimeType": "application/zip", "buffer": archive}
    )
    await page.get_by_role("button", name="Upload tests").click()
    await expect(page.locator("#upload-status")).to_contain_text("version 2 with 2 tests (1 sample)")

    async with httpx.AsyncClient(base_url=cluster.api_url, headers=ADMIN, timeout=60) as http:
        stored = (await http.get(f"/api/v1/problems/{slug}/judging")).json()
    assert stored["title"] == "Doubling" and stored["statement"] == "Print *2n*."
    assert stored["judging"]["compare"] == "tokens" and stored["limits"]["time_ms"] == 3000
    assert [test.get("sample", False) for test in stored["judging"]["tests"]] == [True, False]
    # The token is this tab's only: in sessionStorage, not in localStorage.
    assert await page.evaluate("sessionStorage.getItem('executioner.admin-token')") == ADMIN_TOKEN
    assert await page.evaluate("JSON.stringify(localStorage)") == "{}"


async def test_a_bad_zip_or_token_is_shown_at_its_field(page: Page, cluster: Cluster) -> None:
    slug = new_slug()
    await create_problem(cluster.api_url, slug)
    await page.goto(f"{cluster.api_url}/admin/problems/new")
    token = page.get_by_label("Admin token", exact=True)
    await token.fill("not-the-token")
    await page.get_by_label("Problem slug").fill(slug)
    files = page.get_by_label("Zip archive")
    bad = zip_of({"1.in": "1\n", "1.out": "2\n", "notes/readme.txt": "hello"})
    await files.set_input_files({"name": "bad.zip", "mimeType": "application/zip", "buffer": bad})
    upload = page.get_by_role("button", name="Upload tests")

    await upload.click()
    await expect(page.locator("#error-token")).to_contain_text("wrong")
    await expect(token).to_be_focused()

    await token.fill(ADMIN_TOKEN)
    await upload.click()
    error = page.locator("#error-archive")
    await expect(error).to_contain_text("notes/readme.txt")  # the entry the API refused
    await expect(files).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".field-error:visible")).to_have_count(1)
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as http:
        assert (await http.get(f"/api/v1/problems/{slug}")).json()["version"] == 1, "nothing was replaced"


async def test_a_problem_fits_a_phone_screen(
    context: BrowserContext, cluster: Cluster, artifacts: Path
) -> None:
    slug = await scored_problem(cluster)
    phone = await context.new_page()
    await phone.set_viewport_size(PHONE)
    problem = await ProblemPage.open(phone, cluster.api_url, slug)
    await expect(problem.sample("Input", 1)).to_be_visible()

    overflow = await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 375px screen"
    for control in (problem.language, problem.submit_button, problem.source, problem.statement):
        box = await control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], control
    await phone.screenshot(path=artifacts / "web-problem-375px.png", full_page=True)
