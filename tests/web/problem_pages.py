"""The problem pages as a person uses them, by the accessible names of their controls, and the problems
they show, created through the API as an admin would."""

import io
import secrets
import zipfile
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.async_api import Locator, Page, expect

from tests.web.editor_page import RUN_TIMEOUT_MS

ADMIN_TOKEN = "test-admin-token"  # tests/fixtures/cluster.py gives every cluster it
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def new_slug() -> str:
    """A slug no other test uses (the cluster's database is shared by the session)."""
    return f"web-{secrets.token_hex(4)}"


async def create_problem(api_url: str, slug: str, **fields: Any) -> dict[str, Any]:
    """Create problem ``slug`` through the API (a test of A + B unless ``fields`` say otherwise)."""
    body = {
        "slug": slug,
        "title": f"Problem {slug}",
        "tests": [{"input": "1 2\n", "expected_output": "3\n", "sample": True}],
        # Generous: the judging is not what these tests are about, and CI's machine is loaded.
        "limits": {"time_ms": 5000, "wall_ms": 30000},
        **fields,
    }
    async with httpx.AsyncClient(base_url=api_url, headers=ADMIN, timeout=60) as http:
        reply = await http.post("/api/v1/problems", json=body)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


def zip_of(files: dict[str, str]) -> bytes:
    """A zip archive holding ``files`` (name → text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@dataclass
class ProblemPage:
    """``/problems/<slug>`` in one browser tab."""

    page: Page

    @classmethod
    async def open(cls, page: Page, base_url: str, slug: str) -> "ProblemPage":
        """Load the problem's page and wait until its languages are listed (it is ready then)."""
        await page.goto(f"{base_url}/problems/{slug}")
        opened = cls(page)
        await expect(opened.language.locator("option").first).to_be_attached()
        return opened

    @property
    def title(self) -> Locator:
        return self.page.get_by_role("heading", level=2).first

    @property
    def statement(self) -> Locator:
        return self.page.get_by_role("article", name="Statement")

    @property
    def language(self) -> Locator:
        return self.page.get_by_role("combobox", name="Language")

    @property
    def source(self) -> Locator:
        return self.page.get_by_role("textbox", name="Source code")

    @property
    def submit_button(self) -> Locator:
        return self.page.get_by_role("button", name="Submit")

    @property
    def verdict(self) -> Locator:
        return self.page.locator("#verdict")

    @property
    def score(self) -> Locator:
        return self.page.locator("#score")

    def sample(self, what: str, number: int) -> Locator:
        """A sample's ``Input`` or ``Expected output`` box (``number`` from 1)."""
        return self.page.get_by_label(f"{what} of sample {number}")

    def test_result(self, index: int) -> Locator:
        """The Result pane's row of test ``index`` (0-based)."""
        return self.page.get_by_role("list", name="Test results").get_by_role("listitem").nth(index)

    async def program(self) -> str:
        """The editor's text, from the lines CodeMirror renders (all of them, for a short program)."""
        lines: list[str] = await self.source.locator(".cm-line").evaluate_all(
            "lines => lines.map(line => line.textContent)"
        )
        return "\n".join(lines)

    async def write_program(self, source: str) -> None:
        """Replace the program, as a paste would (typing would trigger auto-indent and bracket closing)."""
        await self.source.click()
        await self.page.keyboard.press("Control+A")
        await self.page.keyboard.insert_text(source)

    async def wait_for_verdict(self, text: str) -> None:
        """Wait for the final verdict ``text``, shown when the live stream's result arrived."""
        await expect(self.page.locator("#connection")).to_have_text("Finished.", timeout=RUN_TIMEOUT_MS)
        await expect(self.verdict).to_have_text(text)
