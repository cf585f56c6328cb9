"""Browser tests: Playwright for Python driving Debian's chromium (nothing downloads a browser).

Every page is looked at as a person would: at desktop and phone width, in Chinese and English, with
a screenshot kept under var/screenshots/ and no console error (a CSP violation is one).
"""
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's `chromium` (.ci/run does) to run browser tests")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while the browser lives;
    # the tests' own ORM calls are still synchronous, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One browser context at one width in one language, collecting console errors."""

    def __init__(self, browser, base_url: str, viewport: str, language: str, name: str):
        self.base_url, self.viewport, self.language, self.name = base_url, viewport, language, name
        self.context = browser.new_context(viewport=VIEWPORTS[viewport], locale=LOCALES[language],
                                           extra_http_headers={"Accept-Language": language})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, path: str):
        response = self.page.goto(self.base_url + path)
        return response

    def login(self, username: str, password: str) -> None:
        self.open("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("main form button[type=submit]")
        self.page.wait_for_load_state()

    def shot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{label}-{self.viewport}-{self.language}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def overflows(self) -> bool:
        """True when the page is wider than the viewport (a phone user would scroll sideways)."""
        return self.page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")


@pytest.fixture(params=[(v, lang) for v in VIEWPORTS for lang in LOCALES], ids=lambda p: f"{p[0]}-{p[1]}")
def visit(request, browser, live_server):
    viewport, language = request.param
    name = request.node.originalname.removeprefix("test_")
    v = Visit(browser, live_server.url, viewport, language, name)
    yield v
    v.context.close()
    assert not v.errors, f"console errors: {v.errors}"
