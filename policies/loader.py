"""Read policy YAML files (keeping line numbers for every key) and merge them into a `Policy`.

Merging, in the order given (the shipped `default.yaml` first): scalar settings and
`defaults` keys from later files win; `protected_namespaces` accumulate (a site cannot
unprotect kube-system); a rule or freeze reusing an earlier name replaces it in place
(`enabled: false` switches a shipped rule off); new rules and mode overrides of a later
file are placed before the earlier files' ones, so site rules are tried first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from policies.errors import PolicyLoadError, PolicyProblem
from policies.schema import (
    Defaults,
    Freeze,
    Policy,
    PolicyFile,
    Rule,
    SourceLocation,
)
from policies.validation_messages import describe_validation_error

DEFAULT_POLICY_PATH = Path(__file__).with_name("default.yaml")
DataPath = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class ParsedFile:
    """One policy file: its display name, the raw data, a line for each data path, the model."""

    name: str
    data: Any = None
    lines: dict[DataPath, int] = field(default_factory=dict)
    policy: PolicyFile | None = None
    problems: list[PolicyProblem] = field(default_factory=list)

    def location(self, path: DataPath) -> SourceLocation:
        return SourceLocation(file=self.name, line=self.lines.get(path))

    def problem(self, path: DataPath, message: str) -> None:
        self.problems.append(PolicyProblem(self.name, self.line_of(path), message))

    def line_of(self, path: DataPath) -> int | None:
        """Line of `path`, or of its nearest ancestor present in the file."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def _walk(
    node: yaml.Node,
    path: DataPath,
    parsed: ParsedFile,
    build: yaml.SafeLoader,
    ancestors: frozenset[int] = frozenset(),
) -> Any:
    """Build Python data from a composed node, recording the line of every path."""
    parsed.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in ancestors:
        parsed.problem(path, "a YAML alias refers to itself")
        return None
    inner = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                parsed.problem(path, "YAML merge keys (<<) are not supported in policy files")
                continue
            key = build.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                parsed.problem(path, f"key {key!r} must be text")
                continue
            parsed.lines[(*path, key)] = key_node.start_mark.line + 1
            if key in result:
                parsed.problem((*path, key), f"duplicate key {key!r}")
                continue
            result[key] = _walk(value_node, (*path, key), parsed, build, inner)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _walk(item, (*path, index), parsed, build, inner)
            for index, item in enumerate(node.value)
        ]
    return build.construct_object(node, deep=True)


def _display_name(path: Path) -> str:
    return "policies/default.yaml" if path == DEFAULT_POLICY_PATH else str(path)


def parse_policy_file(path: str | Path) -> ParsedFile:
    """Read and validate one file; problems are collected on the result, never raised."""
    path = Path(path)
    parsed = ParsedFile(name=_display_name(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        parsed.problem((), f"cannot read the file: {error}")
        return parsed
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        parsed.data = {} if root is None else _walk(root, (), parsed, loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = None if mark is None else mark.line + 1
        parsed.problems.append(PolicyProblem(parsed.name, line, f"invalid YAML: {error.problem}"))
        return parsed
    except yaml.YAMLError as error:
        parsed.problem((), f"invalid YAML: {error}")
        return parsed
    finally:
        loader.dispose()
    if not isinstance(parsed.data, dict):
        parsed.problem((), "a policy file must be a mapping (version, mode, rules, ...)")
        return parsed
    try:
        policy = PolicyFile.model_validate(parsed.data)
    except ValidationError as error:
        for path_in_data, message in describe_validation_error(error, parsed.data):
            parsed.problem(path_in_data, message)
        return parsed
    sections: tuple[tuple[str, Sequence[Rule | Freeze]], ...] = (
        ("rules", policy.rules),
        ("freezes", policy.freezes),
    )
    for section, items in sections:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.name in seen:
                parsed.problem((section, index), f"{section[:-1]} name {item.name!r} is used twice")
            seen.add(item.name)
    if not parsed.problems:
        parsed.policy = policy
    return parsed


_Named = TypeVar("_Named", Rule, Freeze)


def _replace_or_add(existing: list[_Named], item: _Named, new: list[_Named]) -> None:
    """Replace the same-named item in place, or append `item` to `new`."""
    for index, current in enumerate(existing):
        if current.name == item.name:
            existing[index] = item
            return
    new.append(item)


def merge_policy_files(files: Sequence[ParsedFile]) -> Policy:
    """Merge successfully parsed files in order (see the module docstring)."""
    merged = Policy()
    defaults = merged.defaults.model_dump()
    rules: list[Rule] = []
    freezes: list[Freeze] = []
    overrides = list(merged.mode_overrides)
    protected = list(merged.protected_namespaces)
    sources: dict[str, SourceLocation] = {}
    mode, floor = merged.mode, merged.confidence_floor
    for parsed in files:
        if parsed.policy is None:
            continue
        doc = parsed.policy
        mode = doc.mode or mode
        floor = doc.confidence_floor if doc.confidence_floor is not None else floor
        defaults.update(doc.defaults.model_dump(exclude_none=True))
        if doc.defaults.approvers is not None:
            sources["defaults.approvers"] = parsed.location(("defaults", "approvers"))
        overrides = [*doc.mode_overrides, *overrides]
        protected.extend(ns for ns in doc.protected_namespaces if ns not in protected)
        new_rules: list[Rule] = []
        for index, rule in enumerate(doc.rules):
            _replace_or_add(rules, rule, new_rules)
            sources[f"rules/{rule.name}"] = parsed.location(("rules", index))
        rules = [*new_rules, *rules]
        added_freezes: list[Freeze] = []
        for index, freeze in enumerate(doc.freezes):
            _replace_or_add(freezes, freeze, added_freezes)
            sources[f"freezes/{freeze.name}"] = parsed.location(("freezes", index))
        freezes.extend(added_freezes)
    return Policy(
        mode=mode,
        mode_overrides=tuple(overrides),
        confidence_floor=floor,
        protected_namespaces=tuple(protected),
        defaults=Defaults.model_validate(defaults),
        freezes=tuple(freezes),
        rules=tuple(rules),
        sources=sources,
    )


def policy_paths(paths: Iterable[str | Path], *, include_defaults: bool) -> list[Path]:
    given = [Path(p) for p in paths]
    return [DEFAULT_POLICY_PATH, *given] if include_defaults else given


def load_policy(paths: Iterable[str | Path] = (), *, include_defaults: bool = True) -> Policy:
    """Load and merge policy files (after the shipped defaults unless told otherwise).

    Raises PolicyLoadError listing every problem that makes a file unusable; semantic
    warnings (unreachable rules, missing approvers) are `check_policy_files`' job.
    """
    parsed = [parse_policy_file(p) for p in policy_paths(paths, include_defaults=include_defaults)]
    problems = [problem for file in parsed for problem in file.problems]
    if problems:
        raise PolicyLoadError(problems)
    return merge_policy_files(parsed)
