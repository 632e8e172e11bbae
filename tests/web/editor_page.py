"""The page as a person uses it, by the accessible names of its controls (so the tests also check that
every control has one)."""

from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect

RUN_TIMEOUT_MS = 120_000
"""A run goes through the outbox, Kafka, a worker container and back: generous for a loaded CI machine."""


@dataclass
class LiveRunPage:
    """What every page that runs a program shows: a language picker, the editor, and the live result."""

    page: Page

    async def ready(self) -> None:
        """Wait until the languages are listed (the page is ready then)."""
        await expect(self.language.locator("option").first).to_be_attached()

    @property
    def language(self) -> Locator:
        return self.page.get_by_role("combobox", name="Language")

    @property
    def source(self) -> Locator:
        return self.page.get_by_role("textbox", name="Source code")

    @property
    def verdict(self) -> Locator:
        return self.page.locator("#verdict")

    @property
    def connection(self) -> Locator:
        return self.page.locator("#connection")

    def test_result(self, index: int) -> Locator:
        """The Result pane's row of test ``index`` (0-based)."""
        return self.page.get_by_role("list", name="Test results").get_by_role("listitem").nth(index)

    async def write_program(self, source: str) -> None:
        """Replace the program, as a paste would (typing would trigger auto-indent and bracket closing)."""
        await self.source.click()
        await self.page.keyboard.press("Control+A")
        await self.page.keyboard.insert_text(source)

    async def program(self) -> str:
        """The editor's text, from the lines CodeMirror renders (all of them, for a short program)."""
        lines: list[str] = await self.source.locator(".cm-line").evaluate_all(
            "lines => lines.map(line => line.textContent)"
        )
        return "\n".join(lines)

    async def wait_for_verdict(self, text: str) -> None:
        """Wait for the final verdict ``text`` (the badge shows its name in words, not only a colour),
        shown when the live stream's result arrived."""
        await expect(self.connection).to_have_text("Finished.", timeout=RUN_TIMEOUT_MS)
        await expect(self.verdict).to_have_text(text)


@dataclass
class EditorPage(LiveRunPage):
    """The Executioner page in one browser tab."""

    @classmethod
    async def open(cls, page: Page, base_url: str, path: str = "/") -> "EditorPage":
        """Load ``path`` and wait until it is ready."""
        await page.goto(base_url + path)
        opened = cls(page)
        await opened.ready()
        return opened

    @property
    def stdin(self) -> Locator:
        return self.page.get_by_role("textbox", name="Standard input")

    @property
    def run_button(self) -> Locator:
        return self.page.get_by_role("button", name="Run")

    @property
    def notice(self) -> Locator:
        return self.page.get_by_role("alert")

    def limit(self, label: str) -> Locator:
        return self.page.get_by_role("textbox", name=label)

    async def add_test(self, stdin: str, expected_output: str) -> None:
        """Add a test row and fill it in."""
        await self.page.get_by_role("button", name="Add test").click()
        number = await self.page.locator("#test-rows > li").count()
        await self.page.locator(f"#test-{number - 1}-stdin").fill(stdin)
        await self.page.locator(f"#test-{number - 1}-expected_output").fill(expected_output)

    async def timeline(self) -> list[int]:
        """The seqs of the live events the page showed, in the order it showed them."""
        seqs: list[str] = await self.page.locator("#timeline li").evaluate_all(
            "items => items.map(item => item.dataset.seq)"
        )
        return [int(seq) for seq in seqs]

    async def output(self, title: str) -> str:
        """The text of the output box titled ``title`` (stdout, stderr) of a run without tests."""
        heading = self.page.locator("#outputs h3", has_text=title)
        return await heading.locator("xpath=following-sibling::pre[1]").text_content() or ""
