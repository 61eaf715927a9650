"""Keep tool output within a token budget by summarising whole items, never cutting mid-item.

Content is built as a header plus one text block per item (a series, a log line, a trace);
items are kept in order of importance while they fit, and the rest are counted in a note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

NOTE_RESERVE_CHARS = 160


class OutputBudget(BaseModel):
    """How much text one tool result may hand to the model."""

    max_tokens: int = Field(1500, ge=100, description="Token budget of one tool result.")
    chars_per_token: int = Field(4, ge=1, description="Characters per token estimate.")

    @property
    def max_chars(self) -> int:
        return self.max_tokens * self.chars_per_token


def estimate_tokens(text: str, chars_per_token: int = 4) -> int:
    return -(-len(text) // chars_per_token)


def shorten(text: str, max_chars: int) -> str:
    """One value (a log message, a label) cut to `max_chars` with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    return flat[: max(0, max_chars - 1)].rstrip() + "…"


def fit_items(
    header: str,
    items: Sequence[str],
    max_chars: int,
    omitted_note: Callable[[int], str],
    footer: str = "",
) -> tuple[str, int]:
    """Join header, as many whole items as fit, a note about the rest, and a footer.

    Returns the text and how many items were left out.
    """
    parts = [header]
    used = len(header) + len(footer) + 2
    for index, item in enumerate(items):
        remaining_after = len(items) - index - 1
        reserve = NOTE_RESERVE_CHARS if remaining_after else 0
        if used + len(item) + 1 + reserve > max_chars and index > 0:
            parts.append(omitted_note(len(items) - index))
            if footer:
                parts.append(footer)
            return "\n".join(parts), len(items) - index
        text = item
        if used + len(text) + 1 > max_chars:
            text = shorten(text, max(40, max_chars - used - reserve - 1))
        parts.append(text)
        used += len(text) + 1
    if footer:
        parts.append(footer)
    return "\n".join(parts), 0


def format_number(value: float | None) -> str:
    """Compact human form: 3 significant digits, thousands suffixes for big values."""
    if value is None:
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.3g}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    if magnitude == int(magnitude) and magnitude < 1e4:
        return str(int(value))
    return f"{value:.3g}"
