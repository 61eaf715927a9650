"""Parse untrusted JSON into a 4xx-able error instead of a 500.

`json.loads` raises more than JSONDecodeError on hostile input: RecursionError for deeply
nested arrays, ValueError for integers over Python's digit limit. And PostgreSQL text cannot
hold NUL, so a string containing one would fail later, inside the database.
"""

from __future__ import annotations

import json
from typing import Any

from bot.errors import BadInput

MAX_DEPTH = 64


def load_untrusted(text: str | bytes, what: str = "body") -> Any:
    """The parsed JSON, or BadInput naming why it cannot be used."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadInput(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{what} is not valid JSON: {exc.msg} at position {exc.pos}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{what} is not UTF-8") from None
    except ValueError as exc:  # e.g. an integer longer than Python's digit limit
        raise BadInput(f"{what} is not usable JSON: {str(exc)[:120]}") from None
    problem = _problem(data)
    if problem is not None:
        raise BadInput(f"{what}: {problem}", status=422)
    return data


def _problem(data: Any) -> str | None:
    """Walks without recursion: nesting beyond MAX_DEPTH, or a NUL or lone surrogate."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels at {path or 'the top'}"
        if isinstance(value, str):
            if "\x00" in value:
                return f"{path or 'value'} contains a NUL character"
            if not _encodable(value):
                return f"{path or 'value'} contains an unpaired surrogate"
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key or not _encodable(key):
                    return f"a key at {path or 'the top'} contains a NUL or surrogate"
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{n}", depth + 1) for n, item in enumerate(value))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
