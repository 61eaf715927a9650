"""The workspace page behaves like Slack in Chromium at 1400x900 and 900x700: the window
never scrolls (sidebar, header and composer stay put; message lists scroll), emoji
shortcodes show as emoji, code blocks stay in their box, user groups show their handle,
"(edited)" and "N replies" are apart, and loading the page requests nothing that 404s."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox.slack.workspace import SlackWorkspace

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PROMQL = 'sum(rate(http_requests_total{namespace="prod",service="checkout",code=~"5.."}[5m]))' * 12
SIZES = [(1400, 900), (900, 700)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def busy_channel(slack: SlackWorkspace) -> str:
    """#incidents with more messages than any window holds, and one of each kind."""
    bot = WebClient(
        token=slack.config.bot_token,
        base_url=slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=5)],  # 1 post/s/channel
    )
    channel = slack.channel_id("incidents")
    for i in range(40):
        slack.post_message("U0ALICE", "incidents", f"message {i}: checkout looks fine")
    header = bot.chat_postMessage(
        channel=channel,
        text="#7 checkout errors",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": ":rotating_light: #7"}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":large_yellow_circle: warning · :gear: triage · :warning: "
                    "needs <!subteam^S0ONCALL>",
                },
            },
        ],
    )
    bot.chat_update(channel=channel, ts=header["ts"], text="#7 checkout errors (edited)")
    bot.chat_postMessage(channel=channel, thread_ts=header["ts"], text=f"```{PROMQL}```")
    bot.chat_postMessage(channel=channel, thread_ts=header["ts"], text="second reply")
    return str(header["ts"])


def box(page: Page, selector: str) -> dict[str, Any]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return dict(found)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_page_keeps_sidebar_header_and_composer_fixed_and_renders_like_slack(
    browser: Browser,
    slack: SlackWorkspace,
    busy_channel: str,
    width: int,
    height: int,
    tmp_path: Path,
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(f"{slack.base_url}/?user=U0ALICE")
    page.locator("#channels li[data-channel-name='incidents']").click()
    page.locator(".thread-link").first.wait_for()
    page.locator(".thread-link").first.click()
    page.locator("#thread-messages .code-block").wait_for()

    page.mouse.wheel(0, 5000)
    window = page.evaluate(
        "({scroll: document.scrollingElement.scrollHeight, inner: innerHeight, y: scrollY})"
    )
    assert window["scroll"] <= window["inner"]
    assert window["y"] == 0
    assert box(page, "#sidebar")["y"] == 0
    assert box(page, "#channel-header")["y"] == 0
    composer = box(page, "#composer-form")
    assert composer["y"] + composer["height"] <= height
    listing = page.evaluate(
        "(() => { const m = document.getElementById('messages');"
        " return {scroll: m.scrollHeight, client: m.clientHeight}; })()"
    )
    assert listing["scroll"] > listing["client"], "the message list scrolls, not the window"

    header = page.locator(f"#messages .message[data-ts='{busy_channel}']")
    shown = header.inner_text()
    assert "🟡" in shown
    assert "⚙️" in shown
    assert "⚠️" in shown
    assert "🚨" in shown
    assert ":warning:" not in shown
    assert "@oncall" in shown
    assert "@group" not in shown

    edited = box(page, f"#messages .message[data-ts='{busy_channel}'] .edited")
    replies = box(page, f"#messages .message[data-ts='{busy_channel}'] .thread-link")
    assert edited["y"] + edited["height"] <= replies["y"] + 1

    code = box(page, "#thread-messages .code-block")
    pane = box(page, "#thread-pane")
    assert code["x"] + code["width"] <= pane["x"] + pane["width"] + 1
    assert failed == []
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)  # docs/screenshots to refresh
    page.screenshot(path=str(shots / f"workspace-{width}x{height}.png"))
    page.close()
