"""The web UI in a real browser: Playwright driving Debian's Chromium on loopback."""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from kickclip.settings import Settings
from kickclip.webui import rate_tab
from media import eventful_stream

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parents[1] / "docs" / "screenshots"
SHOOT = bool(os.environ.get("KICKCLIP_SCREENSHOTS"))  # refresh docs/screenshots/ when set
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from kickclip.webui.app import serve

    root = tmp_path_factory.mktemp("site")
    source = eventful_stream(root / "stream.mp4")
    settings = Settings(
        db=root / "clips.db",
        out=root / "clips",
        models_dir=root / "models",
        clip_duration=6,
        min_gap=10,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = serve(settings, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", settings, source
    app.close()


@pytest.fixture(scope="module")
def page(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport={"width": 1400, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(site[0])
        yield page
        browser.close()


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_analyze_and_generate(page, site) -> None:
    _, settings, source = site
    _tab(page, "Generate Clips")
    page.get_by_label("Stream URL or file path").fill(str(source))
    page.get_by_role("button", name="Analyze Stream").click()
    page.get_by_text(re.compile(r"\d+ highlights in")).wait_for()
    page.get_by_role("button", name="Generate Clips").click()
    page.get_by_text(re.compile(r"\d+ clips registered")).wait_for()
    if SHOOT:
        page.screenshot(path=str(SCREENSHOTS / "generate.png"), full_page=True)
    assert len(list(settings.out.glob("*.mp4"))) >= 10


def test_rate_ten_clips_and_see_the_model(page, site) -> None:
    _tab(page, "View & Rate")
    page.get_by_role("button", name="Load Clips for Rating").click()
    page.get_by_text(re.compile(r"\d+ clips to rate")).wait_for()
    for number in range(10):
        stars = number % 5 + 1
        page.get_by_text(rate_tab.STARS[stars - 1], exact=True).click()
        page.get_by_role("button", name="Submit Rating").click()
        page.get_by_text(re.compile(rf"Rated clip #\d+: {'★' * stars}$")).wait_for()
    for _ in range(30):
        page.get_by_role("button", name="Refresh Statistics").click()
        panel = page.locator("#model-panel")
        if "Model trained" in panel.inner_text():
            break
        page.wait_for_timeout(500)
    assert "Model trained" in page.locator("#model-panel").inner_text()
    rows = page.locator("#statistics tr").all_inner_texts()
    counts = {row.split("\t")[0].strip(): row.split("\t")[-1].strip() for row in rows}
    assert all(counts["★" * stars] == "2" for stars in range(1, 6)), counts
    if SHOOT:
        page.screenshot(path=str(SCREENSHOTS / "rate.png"), full_page=True)


def test_browse_and_download(page, site, tmp_path) -> None:
    _, settings, _ = site
    _tab(page, "Browse & Download")
    page.get_by_role("button", name="Refresh Gallery").click()
    page.locator("#browse-gallery img").first.wait_for()
    page.locator("#browse-clip input").click()
    page.get_by_role("option").first.click()
    link = page.locator("#browse-download a[download]").first
    link.wait_for()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    original = settings.out / download.suggested_filename
    assert original.is_file() and saved.read_bytes() == original.read_bytes()
    if SHOOT:
        page.screenshot(path=str(SCREENSHOTS / "browse.png"), full_page=True)


def test_error_is_visible(page) -> None:  # last: its message stays on screen a while
    _tab(page, "Generate Clips")
    page.get_by_label("Stream URL or file path").fill("")
    page.get_by_role("button", name="Analyze Stream").click()
    page.get_by_text(re.compile("enter a kick.com URL")).first.wait_for()
