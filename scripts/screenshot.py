"""Regenerate docs/workspace.png: the local workspace with an incident thread and /ask-ai help.

.venv/bin/python scripts/screenshot.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.botharness import running_bot, workspace  # noqa: E402
from tests.incidents.amfixtures import fixture  # noqa: E402


def main() -> None:
    ws = workspace()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_bot(ws, database_url=f"sqlite:///{tmp}/shot.db") as bot,
    ):
        bot.bot.runtime.pipeline.accept(
            json.dumps(fixture("firing-from-prometheus-rule.json")).encode()
        )
        ws.wait_for(
            lambda: [m for m in ws.messages("incidents") if m.get("reply_count")], timeout=20
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.goto(f"{ws.base_url}/?user=U0ALICE")
            page.locator("#channels li[data-channel-name='incidents']").click()
            page.locator(".thread-link").first.click()
            page.locator("#composer").fill("/ask-ai help")
            page.locator("#composer").press("Enter")
            expect(page.locator(".message.ephemeral")).to_be_visible(timeout=15_000)
            out = ROOT / "docs" / "workspace.png"
            out.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
            print(f"wrote {out}")
    ws.close()


if __name__ == "__main__":
    main()
