"""Keeps the settings table in README.md generated from the settings model."""

from __future__ import annotations

from pathlib import Path

from bot.settings import settings_table

START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def with_settings_table(readme: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{settings_table()}\n{END}{tail}"


def refresh(path: Path) -> bool:
    """Rewrite the table in place; True when the file changed."""
    old = path.read_text()
    new = with_settings_table(old)
    if new != old:
        path.write_text(new)
    return new != old


if __name__ == "__main__":
    print("README.md updated" if refresh(Path("README.md")) else "README.md already current")
