"""Drive the workspace page in headless Chromium (Debian's package, no browser download)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def open_channel(browser: Browser, slack: SlackWorkspace, channel: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{slack.base_url}/?user=U0ALICE")
    page.locator(f"#channels li[data-channel-name='{channel}']").click()
    return page


def test_typing_ask_ai_help_in_the_page_shows_the_bots_reply(
    browser: Browser, slack: SlackWorkspace, bot: RunningBot, tmp_path: Path
) -> None:
    page = open_channel(browser, slack, "incidents")
    page.locator("#composer").fill("/ask-ai help")
    page.locator("#composer").press("Enter")
    reply = page.locator(".message.ephemeral", has_text="Ask opsbot about your systems")
    expect(reply).to_be_visible(timeout=15_000)
    expect(reply).to_contain_text("/ask-ai <question>")
    page.screenshot(path=str(tmp_path / "workspace.png"))
    assert (tmp_path / "workspace.png").stat().st_size > 10_000


def test_mentioning_opsbot_in_the_page_gets_a_thread_reply(
    browser: Browser, slack: SlackWorkspace, bot: RunningBot
) -> None:
    page = open_channel(browser, slack, "incidents")
    page.locator("#composer").fill(f"<@{slack.bot_user_id}> what can you do?")
    page.locator("#send").click()
    slack.wait_for(
        lambda: any(m.get("reply_count") for m in slack.messages("incidents")), timeout=15
    )
    page.locator(".thread-link").first.click()
    expect(page.locator("#thread-pane")).to_contain_text("Here is what I can do", timeout=15_000)
