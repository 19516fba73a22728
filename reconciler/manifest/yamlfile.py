"""Read one YAML file into plain Python data plus the source position of every node.

ruamel.yaml's round-trip loader keeps line/column for each mapping key and sequence item; we copy
them into a flat map `path -> Position` so that later errors (pydantic's `loc`) can point at the line.
YAML 1.2 is used, so `no`/`off`/`yes` stay strings and `0644` is not octal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from reconciler.errors import ManifestError, Position, Problem

PathT = tuple[str | int, ...]


class LoadedFile:
    def __init__(self, path: Path, data: Any, positions: dict[PathT, Position]):
        self.path = path
        self.data = data
        self.positions = positions


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    return yaml


def _walk(node: Any, path: PathT, file: str, out: dict[PathT, Position]) -> Any:
    if isinstance(node, CommentedMap):
        result = {}
        for key in node:
            if hasattr(node.lc, "key"):
                line, col = node.lc.key(key)
                out[(*path, str(key))] = Position(file, line + 1, col + 1)
            result[str(key) if not isinstance(key, str) else key] = _walk(
                node[key], (*path, str(key)), file, out
            )
        return result
    if isinstance(node, CommentedSeq):
        result_list = []
        for index, item in enumerate(node):
            line, col = node.lc.item(index)
            out[(*path, index)] = Position(file, line + 1, col + 1)
            result_list.append(_walk(item, (*path, index), file, out))
        return result_list
    if hasattr(node, "__class__") and node.__class__.__module__.startswith("ruamel"):
        # scalar subclasses (ScalarFloat, ScalarBoolean, TaggedScalar, ...) become plain values
        for plain in (bool, int, float, str):
            if isinstance(node, plain):
                return plain(node)
    return node


def load_yaml_file(path: Path, display: str | None = None) -> LoadedFile:
    """Parse a file; every syntax problem becomes a ManifestError with file:line:column."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError([Problem(f"file not found: {name}")]) from None
    except UnicodeDecodeError as exc:
        raise ManifestError([Problem(f"{name} is not UTF-8 text ({exc.reason})")]) from None
    if "\t" in text:
        for lineno, line in enumerate(text.splitlines(), 1):
            indent = line[: len(line) - len(line.lstrip())]
            if "\t" in indent:
                col = indent.index("\t") + 1
                raise ManifestError(
                    [
                        Problem(
                            "a tab character is used for indentation; YAML allows spaces only",
                            Position(name, lineno, col),
                            suggestion="replace the tab with spaces",
                        )
                    ]
                )
    try:
        data = _yaml().load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        key = exc.problem.split('"')[1] if '"' in (exc.problem or "") else ""
        raise ManifestError(
            [
                Problem(
                    f"duplicate key {key!r}: a key may appear only once in a mapping",
                    Position(name, mark.line + 1, mark.column + 1),
                    field=key,
                    suggestion="remove or merge the second occurrence",
                )
            ]
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(name, mark.line + 1, mark.column + 1) if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        raise ManifestError([Problem(f"YAML syntax error: {what}", pos)]) from None
    positions: dict[PathT, Position] = {(): Position(name, 1, 1)}
    plain = _walk(data, (), name, positions)
    return LoadedFile(path, plain, positions)
