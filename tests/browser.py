"""A real Chromium for the HTML report's tests: the system's browser, driven by Playwright.

Playwright's own browser download cannot reach its host here, so the tests use the Chromium that
the system has (Debian's ``chromium``; ``make test`` installs it with apt-get when it is missing)
through ``executable_path``. Without Playwright or a Chromium the browser tests skip locally and
FAIL when ``CI`` is set: CI must run them.

`open_page` loads a file in a fresh page and records what the tests check: every request, every
console message and uncaught error, every dialog (dismissed).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from conftest import missing

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = (
    "install Playwright for Python (`.venv/bin/pip install -e '.[dev]'`, as `make test` does) "
    "and a Chromium (Debian: `apt-get install -y chromium`)"
)


def chromium_path() -> str | None:
    """The system's Chromium: $MTSUM_CHROMIUM, else the first of `CHROMIUM_NAMES` on PATH."""
    named = os.environ.get("MTSUM_CHROMIUM")
    if named:
        return named
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail in CI, naming what to install."""
    missing(f"no browser for the HTML report tests: {reason}; {INSTALL}")


@contextlib.contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``) for the duration of the block."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    path = chromium_path()
    if path is None:
        unavailable(f"none of {', '.join(CHROMIUM_NAMES)} is on PATH")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=path)
        except Error as exc:
            unavailable(f"{path} does not start ({str(exc).splitlines()[0]})")
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Opened:
    """A loaded page and what happened while it loaded and was used."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "warning")]


@contextlib.contextmanager
def open_page(
    browser: Any,
    path: Path,
    *,
    width: int = 1280,
    height: int = 900,
    javascript: bool = True,
    color_scheme: str = "light",
) -> Iterator[Opened]:
    """Open `path` (a file) in a fresh browser context of that size; close it after the block.

    Motion is reduced, so that scrolling into view is instant and can be checked at once.
    """
    context = browser.new_context(
        viewport={"width": width, "height": height},
        java_script_enabled=javascript,
        reduced_motion="reduce",
        color_scheme=color_scheme,
    )
    try:
        page = context.new_page()
        opened = Opened(page=page, url=path.resolve().as_uri())
        page.on("request", lambda request: opened.requests.append(request.url))
        page.on("console", lambda message: opened.console.append((message.type, message.text)))
        page.on("pageerror", lambda error: opened.errors.append(str(error)))

        def dialog(d: Any) -> None:
            opened.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(opened.url)
        page.wait_for_load_state("load")
        yield opened
    finally:
        context.close()
