"""Print the shape of the code as numbers: what a newcomer meets in `bot/`.

    .venv/bin/python bench/architecture.py [--json OUT]

- top level: modules and packages directly under `bot/`;
- cycles: strongly connected components of more than one module in grimp's import graph
  (the graph import-linter builds; function-level and TYPE_CHECKING imports included);
- floors: the longest chain of imports once cycles are collapsed (how deep the layering is);
- upward imports: edges that point from a lower floor of the `bot` layers contract to a
  higher one (0 when the contract holds);
- handler reach: how many `bot` modules each `handlers` module imports transitively;
- docstring lines per 100 code lines (ast: module, class and function docstrings);
- service locators: files below the composition root (`bot/` without `app/`, `cli/`,
  `deps.py`, `settings/`) and in `handlers/` that still take `Deps` or the `Runtime`, or
  read settings through them (`deps.settings`), named with `--locators`.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "tools", "policies")


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: every component, singletons included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root, targets in edges.items():
        if root in index:
            continue
        work = [(root, iter(sorted(targets)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every import cycle as the sorted modules of one strongly connected component (more
    than one module), function-level and TYPE_CHECKING imports included."""
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    return sorted(c for c in strongly_connected(edges) if len(c) > 1)


def floors(edges: dict[str, set[str]], components: list[list[str]]) -> int:
    """Length (in modules) of the longest import chain in the graph of components."""
    owner = {module: i for i, component in enumerate(components) for module in component}
    depth: dict[int, int] = {}
    # Tarjan emits components in reverse topological order: dependencies first.
    for i, component in enumerate(components):
        below = [
            depth[owner[target]]
            for module in component
            for target in edges.get(module, ())
            if owner.get(target, i) != i and owner[target] in depth
        ]
        depth[i] = 1 + max(below, default=0)
    return max(depth.values(), default=0)


def docstring_ratio(files: Iterable[Path]) -> float:
    """Docstring lines per 100 lines of code (blank lines and comments excluded)."""
    doc_lines = code_lines = 0
    for path in files:
        source = path.read_text()
        tree = ast.parse(source)
        in_doc: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(
                node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ) and (doc := ast.get_docstring(node, clean=False)):
                first = node.body[0]
                in_doc.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
                del doc
        for number, line in enumerate(source.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if number in in_doc:
                doc_lines += 1
            else:
                code_lines += 1
    return 100.0 * doc_lines / max(1, code_lines)


LOCATOR = re.compile(r"\bDeps\b|\bRuntime\b|deps\.settings")
ROOT_ROOMS = ("bot/app/", "bot/cli/", "bot/deps.py", "bot/settings/")


def service_locators() -> list[str]:
    """Files below the composition root that take `Deps`/`Runtime` or read settings
    through them (the rule: each object is handed only what it uses)."""
    found = []
    for package in ("bot", "handlers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if name.startswith(ROOT_ROOMS):
                continue
            if LOCATOR.search(path.read_text()):
                found.append(name)
    return found


def measure() -> dict[str, object]:
    """Every number in the module docstring, for the current checkout."""
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES)
    modules = sorted(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in modules}
    components = strongly_connected(edges)
    cycles = import_cycles(graph)
    bot_modules = {m for m in modules if m == "bot" or m.startswith("bot.")}
    reach = {
        handler: len(graph.find_upstream_modules(handler) & bot_modules)
        for handler in modules
        if handler.startswith("handlers.")
    }
    top = sorted(p.name for p in (ROOT / "bot").iterdir() if not p.name.startswith("__"))
    top_modules = [n for n in top if n.endswith(".py")]
    top_packages = [n for n in top if (ROOT / "bot" / n).is_dir() and n != "__pycache__"]
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    return {
        "bot_modules": len(bot_modules),
        "top_level_modules": len(top_modules),
        "top_level_packages": len(top_packages),
        "cycles": len(cycles),
        "modules_in_cycles": sum(len(c) for c in cycles),
        "floors": floors(edges, components),
        "handler_reach_max": max(reach.values(), default=0),
        "handler_reach_mean": round(sum(reach.values()) / max(1, len(reach)), 1),
        "docstring_lines_per_100_code_lines": round(docstring_ratio(files), 1),
        "service_locator_files": len(service_locators()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--locators", action="store_true", help="name the locator files")
    args = parser.parse_args()
    numbers = measure()
    for key, value in numbers.items():
        print(f"{key:40} {value}")
    if args.locators:
        for name in service_locators():
            print(f"  {name}")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
