"""The shape of the code holds: no import cycles, every package visible to the import graph,
a small top level, and no import hidden behind TYPE_CHECKING.

The layers contract itself (cli -> app -> flows -> shared parts -> settings) is an
import-linter contract in pyproject.toml, run by the test command next to this file.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # bench/ is not installed

from bench.architecture import import_cycles  # noqa: E402

PACKAGES = ("bot", "handlers", "tools", "policies")


def _python_files(package: str) -> list[Path]:
    """The package's modules; alembic's migration scripts are files it loads by path."""
    return [
        p
        for p in (ROOT / package).rglob("*.py")
        if "__pycache__" not in p.parts and "migrations" not in p.parts
    ]


def test_there_is_no_import_cycle_in_the_bot_handlers_tools_or_policies() -> None:
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES)
    assert import_cycles(graph) == []


def test_a_deliberate_cycle_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "loopy"
    package.mkdir()
    (package / "__init__.py").write_text('"""A package with a cycle."""\n')
    (package / "a.py").write_text("from loopy import b\n")
    (package / "b.py").write_text("def f() -> None:\n    from loopy import c\n")
    (package / "c.py").write_text("import loopy.a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        graph = grimp.build_graph("loopy", cache_dir=None)
    finally:
        sys.path.remove(str(tmp_path))
    assert import_cycles(graph) == [["loopy.a", "loopy.b", "loopy.c"]]


def test_every_package_has_an_init_that_says_what_it_is_for() -> None:
    """A folder without `__init__.py` is a namespace package: grimp, and so import-linter
    and the cycle test, do not see its modules at all."""
    missing, silent = [], []
    for package in PACKAGES:
        for folder in {p.parent for p in _python_files(package)}:
            init = folder / "__init__.py"
            if not init.exists():
                missing.append(str(folder.relative_to(ROOT)))
            elif ast.get_docstring(ast.parse(init.read_text())) is None:
                silent.append(str(init.relative_to(ROOT)))
    assert missing == []
    assert silent == []


def test_the_top_of_bot_holds_a_handful_of_shared_modules() -> None:
    modules = sorted(
        p.name for p in (ROOT / "bot").glob("*.py") if p.name not in {"__init__.py", "__main__.py"}
    )
    assert len(modules) <= 8, modules


def _type_checking_imports(path: Path) -> list[str]:
    """Modules imported inside `if TYPE_CHECKING:` blocks of one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    found.append(inner.module)
                elif isinstance(inner, ast.Import):
                    found.extend(alias.name for alias in inner.names)
    return found


def test_no_project_import_hides_behind_type_checking() -> None:
    """A project import under TYPE_CHECKING is how a cycle hides from the interpreter. A
    heavy library kept out of start-up (pandas) may sit there; so may the command line's
    imports of the modules a command loads when it runs (the sandbox, the eval harness)."""
    hidden = [
        f"{path.relative_to(ROOT)}: {module}"
        for package in PACKAGES
        for path in _python_files(package)
        if path.parent != ROOT / "bot" / "cli"
        for module in _type_checking_imports(path)
        if module.split(".")[0] in PACKAGES
    ]
    assert hidden == []


def test_no_handler_answers_through_bolts_raw_respond() -> None:
    """A reply to a response_url goes through the writer (bot.slack.replies): Bolt's
    `respond` and slack_sdk's WebhookClient would post outside its fitting, pacing, retry
    budget and use count, so no handler takes a `respond` argument or builds a client."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for package in ("handlers", "bot")
        for path in _python_files(package)
        if path != ROOT / "bot" / "slack" / "replies.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if (isinstance(node, ast.arg) and node.arg in ("respond", "say"))
        or (isinstance(node, ast.alias) and node.name in ("Respond", "Say", "WebhookClient"))
    ]
    assert found == []
