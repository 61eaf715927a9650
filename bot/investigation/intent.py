"""What a mention of opsbot asks for: a question to investigate, or help / small talk that
the capabilities card answers. A pure decision on the text alone."""

from __future__ import annotations

import re
from enum import StrEnum


class MentionIntent(StrEnum):
    QUESTION = "question"
    HELP = "help"
    SMALL_TALK = "small-talk"


_WORD = re.compile(r"[a-z0-9']+")
_HELP = {
    "help",
    "help me",
    "usage",
    "commands",
    "what can you do",
    "what do you do",
    "how do i use you",
    "who are you",
}
_OPENERS = {"hi", "hello", "hey", "yo", "hiya", "opsbot", "please", "so"}
_GREETINGS = {
    "hi",
    "hello",
    "hey",
    "yo",
    "hiya",
    "howdy",
    "thanks",
    "thank",
    "thx",
    "ty",
    "cheers",
    "good",
    "morning",
    "afternoon",
    "evening",
    "night",
    "bye",
    "ok",
    "okay",
    "cool",
    "nice",
    "great",
    "you",
    "there",
    "all",
    "everyone",
    "much",
    "so",
    "lol",
    "a",
    "lot",
    "very",
    "how",
    "are",
    "doing",
    "is",
    "it",
    "going",
    "opsbot",
    "bot",
}


def mention_intent(text: str) -> MentionIntent:
    """`text` is the mention without the `<@U…>` tags. Help words ask for the card; a short
    message made only of greetings, thanks and pleasantries ("hi", "thanks!", "how are
    you?") is small talk; anything else is a question worth investigating."""
    words = _WORD.findall(text.lower())
    asked = words
    while asked and asked[0] in _OPENERS:
        asked = asked[1:]
    if not asked and not words:
        return MentionIntent.HELP
    if " ".join(asked) in _HELP:
        return MentionIntent.HELP
    if len(words) <= 5 and all(word in _GREETINGS for word in words):
        return MentionIntent.SMALL_TALK
    return MentionIntent.QUESTION
