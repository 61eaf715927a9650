"""Channels, people, user groups and reactions through the WebClient."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackWorkspace


def test_create_join_and_invite_build_an_incident_channel(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    created = client.conversations_create(name="inc-checkout-5xx")["channel"]
    joined = client.conversations_join(channel=created["id"])
    client.conversations_invite(channel=created["id"], users="U0ALICE,U0BOB")

    assert created["name"] == "inc-checkout-5xx"
    assert (created["is_channel"], created["creator"], created["is_member"]) == (
        True,
        "U0BOT",
        True,
    )
    assert joined["warning"] == "already_in_channel"
    info = client.conversations_info(channel=created["id"], include_num_members=True)["channel"]
    assert info["num_members"] == 3
    joins = [m["text"] for m in workspace.messages(created["id"])]
    assert joins == ["<@U0ALICE> has joined the channel", "<@U0BOB> has joined the channel"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Has Spaces", "invalid_name_specials"),
        ("UPPER", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
        ("x" * 81, "invalid_name_maxlength"),
        ("", "invalid_name_required"),
        ("incidents", "name_taken"),
    ],
)
def test_channel_names_are_validated_like_slack(client: WebClient, name: str, error: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.conversations_create(name=name)

    assert caught.value.response["error"] == error


def test_invite_refuses_unknown_people_and_existing_members(client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.conversations_invite(channel="C0INCIDENTS", users="U0NOBODY")
    with pytest.raises(SlackApiError, match="already_in_channel"):
        client.conversations_invite(channel="C0INCIDENTS", users="U0ALICE")


def test_joining_a_public_channel_lets_the_bot_read_its_history(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    workspace.post_message("U0CAROL", "general", "hello all")

    client.conversations_join(channel="C0GENERAL")

    texts = [m["text"] for m in client.conversations_history(channel="C0GENERAL")["messages"]]
    assert texts == ["<@U0BOT> has joined the channel", "hello all"]


def test_conversations_list_pages_through_public_channels(client: WebClient) -> None:
    first = client.conversations_list(limit=2)
    rest = client.conversations_list(limit=2, cursor=first["response_metadata"]["next_cursor"])

    names = [c["name"] for c in first["channels"] + rest["channels"]]
    assert names == ["general", "incidents", "ops-digest"]
    assert rest["response_metadata"]["next_cursor"] == ""


def test_users_and_the_oncall_group_look_like_slacks(client: WebClient) -> None:
    alice = client.users_info(user="U0ALICE")["user"]
    members = client.users_list()["members"]
    oncall = client.usergroups_users_list(usergroup="S0ONCALL")["users"]

    assert (alice["name"], alice["is_admin"], alice["tz"]) == ("alice", True, "Europe/Berlin")
    assert alice["profile"]["real_name"] == alice["real_name"]
    assert {m["name"] for m in members} == {"alice", "bob", "carol", "opsbot"}
    assert oncall == ["U0ALICE", "U0BOB"]
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user="U0NOBODY")
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        client.usergroups_users_list(usergroup="S0NOPE")


def test_reactions_add_once_per_name(workspace: SlackWorkspace, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="look")["ts"]

    client.reactions_add(channel="C0INCIDENTS", name="eyes", timestamp=ts)

    assert workspace.messages("incidents")[0]["reactions"] == [
        {"name": "eyes", "users": ["U0BOT"], "count": 1}
    ]
    with pytest.raises(SlackApiError, match="already_reacted"):
        client.reactions_add(channel="C0INCIDENTS", name="eyes", timestamp=ts)
    assert workspace.calls("reactions.add")[0].content_type == "application/x-www-form-urlencoded"


def test_the_bot_can_message_a_person_directly(
    workspace: SlackWorkspace, client: WebClient
) -> None:
    dm = client.conversations_open(users="U0BOB")["channel"]["id"]
    client.chat_postMessage(channel=dm, text="you are on call")

    assert dm.startswith("D")
    assert [m["text"] for m in workspace.messages(dm)] == ["you are on call"]
