"""files_upload_v2 end to end, and views.open's short-lived trigger_id."""

from __future__ import annotations

import time

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackWorkspace
from sandbox.slack.records import Trigger

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
MODAL = {
    "type": "modal",
    "callback_id": "ack_modal",
    "title": {"type": "plain_text", "text": "Ack note"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "note",
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "v"},
        }
    ],
}


def test_files_upload_v2_shares_the_file_into_a_thread_and_serves_it_back(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel="C0INCIDENTS", text="graph coming")["ts"]

    uploaded = client.files_upload_v2(
        channel="C0INCIDENTS",
        thread_ts=parent,
        file=PNG,
        filename="latency.png",
        title="p99 latency",
        initial_comment="Here is the graph",
    )

    file = uploaded["file"]
    assert (file["name"], file["title"], file["mimetype"]) == (
        "latency.png",
        "p99 latency",
        "image/png",
    )
    assert file["size"] == len(PNG)
    reply = workspace.thread("incidents", parent)[1]
    assert reply["text"] == "Here is the graph"
    assert reply["files"][0]["id"] == file["id"]
    auth = {"Authorization": f"Bearer {workspace.config.bot_token}"}
    assert httpx.get(file["url_private"], headers=auth).content == PNG
    assert httpx.get(file["url_private"]).status_code == 403
    assert httpx.get(f"{workspace.base_url}/ui/files/{file['id']}").content == PNG


def test_the_upload_url_also_takes_a_multipart_form(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    ticket = client.files_getUploadURLExternal(filename="notes.txt", length=5)

    posted = httpx.post(ticket["upload_url"], files={"file": ("notes.txt", b"hello")})
    done = client.files_completeUploadExternal(
        files=[{"id": ticket["file_id"], "title": "Notes"}], channel_id="C0OPSDIGEST"
    )

    assert (posted.status_code, posted.text) == (200, "OK - 5")
    assert done["files"][0]["title"] == "Notes"
    assert workspace.messages("ops-digest")[0]["files"][0]["size"] == 5


def issue_trigger(workspace: SlackWorkspace, user_id: str, age_s: float = 0.0) -> str:
    trigger_id = workspace.state.ids.trigger_id()
    workspace.state.triggers[trigger_id] = Trigger(user_id, time.monotonic() - age_s)
    return trigger_id


def test_views_open_needs_a_fresh_unused_trigger(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    fresh = issue_trigger(workspace, "U0ALICE")
    stale = issue_trigger(workspace, "U0ALICE", age_s=3.5)

    view = client.views_open(trigger_id=fresh, view=MODAL)["view"]

    assert view["id"].startswith("V")
    assert (view["callback_id"], view["root_view_id"]) == ("ack_modal", view["id"])
    assert workspace.open_view("U0ALICE") is not None
    for trigger_id, error in [
        (stale, "expired_trigger_id"),
        ("1.2.3", "invalid_trigger_id"),
        (fresh, "exchanged_trigger_id"),
    ]:
        with pytest.raises(SlackApiError) as caught:
            client.views_open(trigger_id=trigger_id, view=MODAL)
        assert caught.value.response["error"] == error


def test_views_update_keeps_the_id_and_refuses_a_stale_hash(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    view = client.views_open(trigger_id=issue_trigger(workspace, "U0BOB"), view=MODAL)["view"]
    renamed = MODAL | {"title": {"type": "plain_text", "text": "Saved"}}

    updated = client.views_update(view_id=view["id"], view=renamed, hash=view["hash"])["view"]

    assert (updated["id"], updated["title"]["text"]) == (view["id"], "Saved")
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=view["id"], view=renamed, hash=view["hash"])


def test_an_invalid_modal_is_refused_with_the_offending_path(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    long_title = MODAL | {"title": {"type": "plain_text", "text": "t" * 25}}

    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id=issue_trigger(workspace, "U0BOB"), view=long_title)

    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
