"""A real Chromium (Debian's package) driven by Playwright; the browser tests skip without it."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)",
)


@dataclass
class Watched:
    """A page, and what it did that a test must see: console errors (CSP violations among them)
    and JavaScript dialogs (an alert() means injected script ran)."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _is_problem(message: Any) -> bool:
    # Pages answered 401/403/429 on purpose log "Failed to load resource"; broken assets are
    # caught by their responses instead.
    return bool(message.type == "error" and not message.text.startswith("Failed to load resource"))


def _broken_asset(response: Any) -> bool:
    return bool("/ui/static/" in response.url and response.status >= 400)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (the test extra)")

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Watched]]:
    """Open a page in a fresh browser context: ``open_page(width=390, dark=True)``."""
    contexts: list[Any] = []

    def opener(width: int = 1280, height: int = 900, dark: bool = False) -> Watched:
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme="dark" if dark else "light"
        )
        contexts.append(context)
        watched = Watched(context.new_page())
        watched.page.on("console", lambda m: _is_problem(m) and watched.errors.append(m.text))
        watched.page.on("response", lambda r: _broken_asset(r) and watched.errors.append(f"{r.status} {r.url}"))
        watched.page.on("pageerror", lambda e: watched.errors.append(str(e)))

        def on_dialog(dialog: Any) -> None:
            watched.dialogs.append(dialog.message)
            dialog.dismiss()

        watched.page.on("dialog", on_dialog)
        return watched

    yield opener
    for context in contexts:
        context.close()
