from __future__ import annotations

import threading
import time

from bot.slack.outbox import Outbox, Pace
from bot.slack.writer import DIGEST_PRIORITY, Lane, lane_of


def test_a_late_header_overtakes_triage_waiting_for_the_same_channel() -> None:
    done: list[int] = []
    lock = threading.Lock()

    def run(incident_id: int) -> None:
        with lock:
            done.append(incident_id)

    outbox = Outbox(run, rate=5.0, workers=4)
    try:
        for incident_id in range(1, 6):
            outbox.submit("C1", priority=1, incident_id=incident_id)  # triage
        time.sleep(0.05)
        outbox.submit("C1", priority=0, incident_id=99)  # a header
        deadline = time.monotonic() + 5
        while len(done) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        outbox.stop()
    assert done.index(99) <= 1


def test_writes_to_one_channel_are_paced_and_other_channels_are_not_held_up() -> None:
    times: dict[int, float] = {}

    def run(incident_id: int) -> None:
        times[incident_id] = time.monotonic()

    outbox = Outbox(run, rate=10.0, workers=2)
    try:
        for incident_id in range(3):
            outbox.submit("C1", priority=1, incident_id=incident_id)
        outbox.submit("C2", priority=1, incident_id=50)
        deadline = time.monotonic() + 5
        while len(times) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        outbox.stop()
    c1 = sorted(times[i] for i in range(3))
    assert c1[2] - c1[0] >= 0.19  # three writes at 10/s span two intervals
    assert times[50] < c1[2]  # C2 did not wait behind C1's pacing


def test_an_incident_is_queued_once_at_its_most_urgent_priority() -> None:
    ran: list[int] = []
    gate = threading.Event()

    def run(incident_id: int) -> None:
        gate.wait(2)
        ran.append(incident_id)

    outbox = Outbox(run, rate=0, workers=1)
    try:
        outbox.submit("C1", 2, 7)
        outbox.submit("C1", 0, 7)
        outbox.submit("C1", 1, 7)
        gate.set()
        time.sleep(0.2)
    finally:
        outbox.stop()
    assert ran == [7]


def test_edits_are_paced_in_their_own_lane_and_take_no_post_slot() -> None:
    """One post per 10 s to C1: the second post waits, but edits of messages in C1 (their
    own workspace-wide bucket, as Slack limits chat.update) go out meanwhile."""
    posts: list[int] = []
    edits: list[int] = []

    outbox = Outbox(
        posts.append,
        rate=0.1,
        burst=1,
        workers=2,
        edits=Pace(rate=50.0, burst=5, reserve=False),
        run_edit=edits.append,
    )
    try:
        outbox.submit("C1", 2, 1)
        outbox.submit("C1", 2, 2)  # waits ~10 s for C1's next post slot
        for incident_id in range(10, 15):
            outbox.submit("C1", 3, incident_id, edit=True)
        deadline = time.monotonic() + 5
        while len(edits) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        posted_meanwhile = list(posts)
    finally:
        outbox.stop()
    assert sorted(edits) == list(range(10, 15))  # every edit ran, through run_edit
    assert posted_meanwhile == [1]  # and none of them took post 2's place


def test_an_incident_queued_for_its_header_is_not_queued_again_as_an_edit() -> None:
    """Header then edit of one incident: the edit request coalesces into the queued header
    (an incident sits in one lane at a time), so the edit cannot overtake the post."""
    ran: list[tuple[str, int]] = []
    release = threading.Event()

    def post(incident_id: int) -> None:
        release.wait(2)
        ran.append(("post", incident_id))

    outbox = Outbox(
        post,
        rate=0,
        workers=2,
        edits=Pace(rate=0, reserve=False),
        run_edit=lambda i: ran.append(("edit", i)),
    )
    try:
        outbox.submit("C1", 0, 7)
        outbox.submit("C1", 3, 7, edit=True)
        release.set()
        time.sleep(0.2)
        outbox.submit("C1", 3, 7, edit=True)  # once the header is out the edit may go
        deadline = time.monotonic() + 5
        while len(ran) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        outbox.stop()
    assert ran == [("post", 7), ("edit", 7)]


def test_every_write_the_bot_makes_waits_in_a_lane_and_reads_do_not() -> None:
    assert lane_of("chat.postMessage", {"channel": "C1"}) == Lane("C1")
    assert lane_of("chat.update", {"channel": "C1", "ts": "1.0"}) == Lane("C1", edit=True)
    assert lane_of("chat.delete", {"channel": "C1", "ts": "1.0"}) == Lane("C1", edit=True)
    assert lane_of("chat.postEphemeral", {"channel": "C1"}) == Lane("chat.postEphemeral")
    assert lane_of("views.open", {"trigger_id": "t"}) == Lane("views")
    assert lane_of("files.completeUploadExternal", {"channel_id": "C1"}) == Lane("files")
    assert lane_of("conversations.create", {"name": "inc-1"}) == Lane("conversations.write")
    for read in ("conversations.history", "conversations.replies", "users.list", "auth.test"):
        assert lane_of(read, {"channel": "C1"}) is None


def test_a_digest_waiting_for_a_channel_goes_after_a_header_queued_later() -> None:
    order: list[str] = []
    release = threading.Event()

    def run(incident_id: int) -> None:
        order.append(f"header {incident_id}")

    outbox = Outbox(run, rate=0, workers=1)
    try:
        blocker = threading.Thread(
            target=outbox.call, args=("C1", DIGEST_PRIORITY, lambda: release.wait(5))
        )
        blocker.start()
        while outbox.idle():
            time.sleep(0.01)  # the first digest write holds the only worker
        digests = [
            threading.Thread(
                target=outbox.call,
                args=("C1", DIGEST_PRIORITY, lambda n=n: order.append(f"digest {n}")),
            )
            for n in range(3)
        ]
        for digest in digests:
            digest.start()
        while outbox.depth() < 3:
            time.sleep(0.01)
        outbox.submit("C1", priority=0, incident_id=7)
        release.set()
        for thread in [blocker, *digests]:
            thread.join(timeout=5)
        while len(order) < 4:
            time.sleep(0.01)
    finally:
        outbox.stop()
    assert order[0] == "header 7"
