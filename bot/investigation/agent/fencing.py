"""Fence markers inside untrusted text, however they are spelled, made inert.

The model is told that data sits between `<untrusted ...>` and `</untrusted>`. Text that
spells a marker could close its fence or open a fake one, so every marker inside it gets a
backslash after its opening bracket (`<\\/untrusted>`). "Spelled" means what a reader, or a
model, would take for one: any case, spaces inside, NFKC-equivalent characters (full-width
U+FF1C/U+FF0F, small forms U+FE64/U+FE65, full-width letters), brackets and slashes that
only look alike (U+2039, U+3008, U+27E8, U+2215, U+2044...) and combining marks laid over
them. The check runs on a folded copy, character by character; the text itself is kept as
it is (a backslash added, nothing else), so Japanese or accented text passes unchanged.
"""

from __future__ import annotations

import re
import unicodedata

# Look-alikes NFKC leaves alone (it folds full-width and small forms, U+2329 to U+3008).
LOOKALIKES = str.maketrans(
    {
        # single and heavy angle quotation marks, angle brackets, arrowheads, syllabics
        **dict.fromkeys("\u2039\u3008\u27e8\u276e\u276c\u2770\u02c2\u1438\u29fc\u2989\u2991", "<"),
        **dict.fromkeys("\u203a\u3009\u27e9\u276f\u276d\u2771\u02c3\u1433\u29fd\u298a\u2992", ">"),
        # division, fraction, big solidus, box-drawing and mathematical diagonals
        **dict.fromkeys("\u2215\u2044\u29f8\u2571\u27cb", "/"),
    }
)
MARKER = re.compile(r"<(?=\s*/?\s*untrusted)", re.IGNORECASE)
# Marks that change nothing a reader takes for structure: combining ones and formatting.
IGNORED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})


def folded(text: str) -> tuple[str, list[int]]:
    """The text as the marker check sees it, and for each of its characters the index of
    the character of `text` it came from."""
    chars: list[str] = []
    owners: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char).translate(LOOKALIKES).casefold():
            if unicodedata.category(piece) not in IGNORED_CATEGORIES:
                chars.append(piece)
                owners.append(index)
    return "".join(chars), owners


def defuse_markers(text: str) -> str:
    """`text` with a backslash after the opening bracket of every fence marker in it."""
    if text.isascii():
        return MARKER.sub("<\\\\", text)
    view, owners = folded(text)
    cuts = sorted({owners[found.start()] + 1 for found in MARKER.finditer(view)})
    parts: list[str] = []
    position = 0
    for cut in cuts:
        parts += [text[position:cut], "\\"]
        position = cut
    parts.append(text[position:])
    return "".join(parts)
