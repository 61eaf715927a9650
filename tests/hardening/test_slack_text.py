"""Slack text is safe by construction: no untrusted string can open a mention or a link."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.text import (
    clip_words,
    code,
    escape,
    escape_within,
    link,
    mention_group,
    mention_user,
    plain,
)

CONTROL = st.sampled_from(
    ["<!channel>", "<!here>", "<@UEVIL>", "<!subteam^SEVIL>", "<http://evil.example|x>", "|", ">"]
)
HOSTILE = st.lists(st.one_of(st.text(max_size=30), CONTROL), max_size=8).map("".join)
LIVE = re.compile(r"<[^>]*>")


@given(HOSTILE)
def test_escaped_text_never_holds_a_control_sequence(text: str) -> None:
    assert LIVE.search(escape(text)) is None
    assert LIVE.search(code(text)) is None


@given(url=HOSTILE, label=HOSTILE)
def test_a_link_is_one_control_sequence_at_most_and_only_to_http(url: str, label: str) -> None:
    made = link(url, label)
    found = LIVE.findall(made)
    assert len(found) <= 1
    for sequence in found:
        assert sequence.startswith(("<http://", "<https://"))
        assert sequence.count("|") == 1
        assert "<!" not in sequence[1:]
        assert "<@" not in sequence[1:]


def test_a_url_that_closes_its_link_early_stays_one_link() -> None:
    made = link("https://ok.example/rb|Runbook> <!channel> <https://evil.example/x", "Runbook")
    assert made.startswith("<https://ok.example/rb%7CRunbook%3E%20%3C!channel%3E")
    assert made.endswith("|Runbook>")
    assert LIVE.findall(made) == [made]


def test_only_http_urls_become_links() -> None:
    assert link("javascript:alert(1)", "run") == "run"
    assert link("slack://open", "<!here>") == "&lt;!here&gt;"
    assert link("https://", "no host") == "no host"


def test_mentions_accept_only_slack_ids() -> None:
    assert mention_user("U0ALICE") == "<@U0ALICE>"
    assert mention_group("S0ONCALL") == "<!subteam^S0ONCALL>"
    for bad in ("U1> <!channel", "here", "<!channel>", ""):
        with pytest.raises(ValueError, match="not a Slack"):
            mention_user(bad)
        with pytest.raises(ValueError, match="not a Slack"):
            mention_group(bad)


@given(st.text(max_size=400), st.integers(min_value=1, max_value=300))
def test_clipped_text_fits_its_limit(text: str, limit: int) -> None:
    assert len(clip_words(text, limit)) <= limit
    assert len(plain(text, limit)) <= limit
    assert len(escape_within(text, limit)) <= limit
    assert LIVE.search(escape_within(text, limit)) is None


def test_mrkdwn_text_objects_are_built_only_by_the_kit_that_takes_mrkdwn() -> None:
    """`bot.slack.kit` builds every mrkdwn field from `Mrkdwn` (mypy checks the type), so a
    raw string from an alert cannot reach one; nothing else may build them directly."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    direct = [
        str(path.relative_to(root))
        for package in ("bot", "handlers", "tools")
        for path in (root / package).rglob("*.py")
        if path != root / "bot" / "slack" / "kit.py"
        and any(
            isinstance(node, ast.Name | ast.Attribute)
            and (getattr(node, "id", None) or getattr(node, "attr", None)) == "MarkdownTextObject"
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert direct == []
