"""Characters that hide text: zero-width ones and bidirectional controls.

Invisible, they serve only to fool people and patterns: an email split by U+200B escapes
redaction, U+202E shows `exe.gnp` as `png.exe`, U+2066..U+2069 reorder what a reader sees.
Text from the outside world loses them before the model or Slack shows it.
"""

from __future__ import annotations

import re

INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")


def visible(text: str) -> str:
    return INVISIBLE.sub("", text)
