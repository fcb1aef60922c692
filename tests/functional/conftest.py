import pytest


@pytest.fixture
def browser():
    """A headless Chromium for one test."""
    from tests.functional.browser import ARGS, CHROMIUM, playwright

    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
