"""The starting workspace: team opsbot-dev, the opsbot app, three people and three channels."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

TEAM_ID = "T0OPSBOT"
TEAM_DOMAIN = "opsbot-dev"
TEAM_NAME = "opsbot dev"
APP_ID = "A0OPSBOT"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "opsbot"
SLACKBOT_ID = "USLACKBOT"
SEED_TIME = 1_795_000_000


def team() -> Json:
    return {"id": TEAM_ID, "name": TEAM_NAME, "domain": TEAM_DOMAIN, "url": team_url()}


def team_url() -> str:
    return f"https://{TEAM_DOMAIN}.slack.com/"


def _profile(real_name: str, display_name: str, email: str | None, title: str) -> Json:
    first, _, last = real_name.partition(" ")
    avatar = f"https://avatars.slack-edge.com/{display_name}_72.png"
    profile: Json = {
        "title": title,
        "phone": "",
        "skype": "",
        "real_name": real_name,
        "real_name_normalized": real_name,
        "display_name": display_name,
        "display_name_normalized": display_name,
        "fields": None,
        "status_text": "",
        "status_emoji": "",
        "status_expiration": 0,
        "avatar_hash": f"g{display_name[:10]}",
        "first_name": first,
        "last_name": last,
        "image_24": avatar,
        "image_32": avatar,
        "image_48": avatar,
        "image_72": avatar,
        "image_192": avatar,
        "image_512": avatar,
        "status_text_canonical": "",
        "team": TEAM_ID,
    }
    if email is not None:
        profile["email"] = email
    return profile


def _human(
    user_id: str, name: str, real_name: str, title: str, tz: tuple[str, str, int], admin: bool
) -> Json:
    tz_name, tz_label, tz_offset = tz
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": tz_name,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "profile": _profile(real_name, name, f"{name}@opsbot.dev", title),
        "is_admin": admin,
        "is_owner": admin,
        "is_primary_owner": admin,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": SEED_TIME,
        "is_email_confirmed": True,
        "has_2fa": False,
        "who_can_share_contact_card": "EVERYONE",
    }


def users() -> dict[str, Json]:
    people = [
        _human(
            "U0ALICE",
            "alice",
            "Alice Andersen",
            "SRE lead",
            ("Europe/Berlin", "Central European Time", 3600),
            admin=True,
        ),
        _human(
            "U0BOB",
            "bob",
            "Bob Baker",
            "On-call engineer",
            ("America/New_York", "Eastern Standard Time", -18000),
            admin=False,
        ),
        _human(
            "U0CAROL",
            "carol",
            "Carol Chen",
            "Backend developer",
            ("Asia/Tokyo", "Japan Standard Time", 32400),
            admin=False,
        ),
    ]
    bot = _human(
        BOT_USER_ID,
        BOT_NAME,
        BOT_NAME,
        "",
        ("America/Los_Angeles", "Pacific Standard Time", -28800),
        admin=False,
    )
    bot["profile"] = _profile(BOT_NAME, BOT_NAME, None, "")
    bot["profile"].update({"bot_id": BOT_ID, "api_app_id": APP_ID, "always_active": True})
    bot.update({"is_bot": True, "is_email_confirmed": False})
    return {u["id"]: u for u in [*people, bot]}


def bot_profile() -> Json:
    """The `bot_profile` Slack attaches to messages the app posts."""
    icon = "https://avatars.slack-edge.com/opsbot_48.png"
    return {
        "id": BOT_ID,
        "deleted": False,
        "name": BOT_NAME,
        "updated": SEED_TIME,
        "app_id": APP_ID,
        "icons": {"image_36": icon, "image_48": icon, "image_72": icon},
        "team_id": TEAM_ID,
    }


def usergroups() -> dict[str, Json]:
    oncall: Json = {
        "id": "S0ONCALL",
        "team_id": TEAM_ID,
        "is_usergroup": True,
        "is_subteam": True,
        "name": "On-call",
        "description": "Primary on-call rotation",
        "handle": "oncall",
        "is_external": False,
        "date_create": SEED_TIME,
        "date_update": SEED_TIME,
        "date_delete": 0,
        "auto_type": None,
        "auto_provision": False,
        "enterprise_subteam_id": "",
        "created_by": "U0ALICE",
        "updated_by": "U0ALICE",
        "deleted_by": None,
        "prefs": {"channels": [], "groups": []},
        "users": ["U0ALICE", "U0BOB"],
        "user_count": 2,
    }
    return {oncall["id"]: oncall}


HUMANS = ("U0ALICE", "U0BOB", "U0CAROL")

# (id, name, purpose, bot is a member)
CHANNELS: tuple[tuple[str, str, str, bool], ...] = (
    ("C0GENERAL", "general", "Company-wide announcements and work-based matters", False),
    ("C0INCIDENTS", "incidents", "Alerts and incident threads from opsbot", True),
    ("C0OPSDIGEST", "ops-digest", "Daily operations digest", True),
)
