"""Screenshot each kind of message opsbot posts, from a running `opsbot dev --scenario`.

    .venv/bin/python -m bot dev --port 8700 --bot-port 8701 --scenario deploy-error-rate &
    .venv/bin/python scripts/message_screenshots.py http://127.0.0.1:8700 docs/messages

Takes the incident's finding and approval card from its thread, clicks the card through
(Deny and Approve as a non-approver: refused in the thread; Approve as an approver:
the confirmation modal, then the card as it runs), runs `/ask-ai` and each digest with
`/opsbot digest NAME now`, and writes one PNG per message kind into the output folder.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Locator, Page, sync_playwright

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DIGESTS = ("incidents", "logs", "performance", "cost-daily", "roi", "capacity")


def state(base: str) -> dict[str, Any]:
    """The workspace's whole state, as the page polls it."""
    return dict(httpx.get(f"{base}/ui/state", timeout=5).json())


def channel_id(base: str, name: str) -> str:
    return str(next(c["id"] for c in state(base)["channels"] if c["name"] == name))


def messages(base: str, name: str) -> list[dict[str, Any]]:
    return list(state(base)["messages"].get(channel_id(base, name), []))


def wait_for(what: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.5)
    raise TimeoutError("nothing appeared")


def open_page(browser: Browser, base: str, user: str, channel: str) -> Page:
    page = browser.new_page(viewport={"width": 1500, "height": 2600})
    page.goto(f"{base}/?user={user}")
    page.locator(f"#channels li[data-channel-name='{channel}']").click()
    return page


def shoot(locator: Locator, out: Path) -> None:
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(out))
    print(f"wrote {out}")


def open_thread(page: Page, thread_ts: str) -> Locator:
    page.locator(f"#messages .message[data-ts='{thread_ts}'] .thread-link").click()
    return page.locator("#thread-pane")


def thread_message(page: Page, ts: str) -> Locator:
    return page.locator(f"#thread-pane .message[data-ts='{ts}']")


def by_text(msgs: list[dict[str, Any]], needle: str) -> list[dict[str, Any]]:
    return [m for m in msgs if needle in (m.get("text") or "")]


class Shots:
    """One run: where to write, which kinds to take, the incident thread's messages."""

    def __init__(self, base: str, out: Path, prefix: str, only: set[str]) -> None:
        self.base, self.out, self.prefix, self.only = base, out, prefix, only
        header = wait_for(lambda: [m for m in messages(base, "incidents") if m.get("reply_count")])
        self.thread = str(header[0]["ts"])
        self.finding = wait_for(lambda: by_text(self.replies(), "Root cause"))[0]
        self.card = wait_for(lambda: by_text(self.replies(), "action"))[-1]

    def want(self, kind: str) -> bool:
        return not self.only or kind in self.only

    def path(self, name: str) -> Path:
        return self.out / f"{self.prefix}{name}.png"

    def replies(self) -> list[dict[str, Any]]:
        return [m for m in messages(self.base, "incidents") if m.get("thread_ts") == self.thread]

    def header(self, page: Page) -> Locator:
        return page.locator(f"#messages .message[data-ts='{self.thread}']")

    def incident(self, page: Page) -> None:
        if self.want("incident"):
            shoot(self.header(page), self.path("incident-header"))
        if self.want("finding"):
            shoot(thread_message(page, self.finding["ts"]), self.path("finding"))
        if self.want("card"):
            shoot(thread_message(page, self.card["ts"]), self.path("approval-card-pending"))
        if self.want("evidence"):
            button = thread_message(page, self.finding["ts"]).get_by_role("button")
            button.filter(has_text="Show evidence").click()
            modal = page.locator("#modal")
            modal.wait_for(state="visible", timeout=15_000)
            time.sleep(1)
            shoot(modal, self.path("finding-evidence-modal"))
            page.locator("#modal-x").click()

    def ask(self, page: Page) -> None:
        """`/ask-ai` in the channel: the answer lands in the question's own thread."""
        composer = page.locator("#composer")
        composer.fill("/ask-ai why is checkout failing?")
        composer.press("Enter")
        answer = wait_for(
            lambda: [
                m
                for m in messages(self.base, "incidents")
                if "Root cause" in (m.get("text") or "") and m.get("thread_ts") != self.thread
            ]
        )[-1]
        time.sleep(2)
        page.reload()
        page.locator("#channels li[data-channel-name='incidents']").click()
        open_thread(page, answer["thread_ts"])
        time.sleep(1)
        shoot(thread_message(page, answer["ts"]), self.path("ask-ai"))
        page.locator("#close-thread").click()
        open_thread(page, self.thread)

    def card_states(self, browser: Browser, page: Page) -> None:
        carol = open_page(browser, self.base, "U0CAROL", "incidents")
        open_thread(carol, self.thread)
        thread_message(carol, self.card["ts"]).get_by_role("button", name="Deny").click()
        time.sleep(1)
        thread_message(carol, self.card["ts"]).get_by_role("button", name="Approve").click()
        time.sleep(3)
        shoot(carol.locator("#thread-messages"), self.path("approval-refused-non-approver"))
        # An approver's click opens opsbot's confirmation modal (nobody else sees it).
        thread_message(page, self.card["ts"]).get_by_role("button", name="Approve").click()
        modal = page.locator("#modal")
        modal.wait_for(state="visible", timeout=15_000)
        time.sleep(1)
        shoot(modal, self.path("approval-confirm-modal"))
        page.locator("#modal-submit").click()
        time.sleep(25)
        page.reload()
        page.locator("#channels li[data-channel-name='incidents']").click()
        open_thread(page, self.thread)
        time.sleep(1)
        shoot(thread_message(page, self.card["ts"]), self.path("approval-card-decided"))
        shoot(self.header(page), self.path("incident-header-after"))

    def digest(self, page: Page, name: str, before: set[str]) -> None:
        page.locator("#composer").fill(f"/opsbot digest {name} now")
        page.locator("#composer").press("Enter")

        def posted() -> list[dict[str, Any]]:
            return [
                m
                for m in messages(self.base, "ops-digest")
                if m["ts"] not in before and m.get("thread_ts") in (None, m["ts"])
            ]

        try:
            message = wait_for(posted, timeout=90)[0]
        except TimeoutError:
            print(f"no {name} digest was posted (nothing to report?)")
            return
        time.sleep(3)
        page.reload()
        page.locator("#channels li[data-channel-name='ops-digest']").click()
        time.sleep(1)
        node = page.locator(f"#messages .message[data-ts='{message['ts']}']")
        if message.get("reply_count"):
            open_thread(page, message["ts"])
            time.sleep(1)
            node = page.locator("#thread-messages")
        shoot(node, self.path(f"digest-{name}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("out", type=Path)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--only", default="", help="comma-separated kinds to take")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    shots = Shots(base, args.out, args.prefix, {k for k in args.only.split(",") if k})
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS
        )
        page = open_page(browser, base, "U0ALICE", "incidents")
        open_thread(page, shots.thread)
        shots.incident(page)
        if shots.want("ask"):
            shots.ask(page)
        if shots.want("card-states"):
            shots.card_states(browser, page)
        digests = open_page(browser, base, "U0ALICE", "ops-digest")
        seen = {m["ts"] for m in messages(base, "ops-digest")}
        for name in DIGESTS:
            if shots.want(name):
                shots.digest(digests, name, seen)
                seen |= {m["ts"] for m in messages(base, "ops-digest")}
        browser.close()


if __name__ == "__main__":
    main()
