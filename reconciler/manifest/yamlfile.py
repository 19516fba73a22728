"""Read one YAML file into plain Python data plus the source position of every key and list item.

We compose the node tree with ruamel.yaml and build the values ourselves instead of letting a
constructor guess, so that nothing changes meaning silently:

- YAML 1.2 scalars: `yes`/`no`/`on`/`off` stay text; only `true`/`false` are booleans.
- A number that YAML 1.1 and 1.2 read differently (`0644`, `0995`, `0o17`, `0x1F`, `1_000`) is an
  error, never a guess; quoted (`"0995"`) it is text, and the schema then says a number is expected.
- Duplicate keys are errors; merge keys (`<<: *anchor`) work, explicit keys winning over merged ones.
- Tabs in indentation, `%YAML` directives, several documents in one file, unknown tags and
  non-UTF-8 text are errors with file:line:column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import ManifestError, Position, Problem

PathT = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOATS = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf")}
# A hostile or careless file can make aliases expand exponentially ("billion laughs").
MAX_NODES = 2_000_000


def field_path(loc: PathT) -> str:
    """(pop3_accounts, 0, port) -> pop3_accounts[0].port"""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class LoadedFile:
    path: Path
    data: Any
    positions: dict[PathT, Position]
    display: str = ""


class _Builder:
    """Turns composed nodes into dicts, lists and scalars, recording positions on the way."""

    def __init__(self, file: str):
        self.file = file
        self.positions: dict[PathT, Position] = {}
        self.nodes = 0

    def pos(self, node: Node) -> Position:
        mark = node.start_mark
        return Position(self.file, mark.line + 1, mark.column + 1)

    def fail(
        self, node: Node, message: str, suggestion: str = "", field: str = ""
    ) -> ManifestError:
        return ManifestError([Problem(message, self.pos(node), field=field, suggestion=suggestion)])

    def build(self, node: Node, path: PathT) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, "the file expands to too many values (alias loop or alias bomb?)")
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _TAG + "seq":
                raise self.fail(node, f"unsupported tag {node.tag!r} on a list")
            out = []
            for index, item in enumerate(node.value):
                self.positions[(*path, index)] = self.pos(item)
                out.append(self.build(item, (*path, index)))
            return out
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        raise self.fail(node, "unsupported YAML node")  # pragma: no cover - no other node kinds

    def mapping(self, node: MappingNode, path: PathT) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            what = "sets (`? key`)" if node.tag == _TAG + "set" else f"the tag {node.tag!r}"
            raise self.fail(node, f"{what} are not supported here; write a plain mapping")
        out: dict[str, Any] = {}
        merged: list[tuple[MappingNode, PathT]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.extend((m, path) for m in self._merge_sources(value_node))
                continue
            key = self.key(key_node)
            if key in out:
                first = self.positions[(*path, key)]
                raise self.fail(
                    key_node,
                    f"duplicate key {key!r} (first at line {first.line}); a key may appear "
                    "only once in a mapping",
                    suggestion="remove or merge the second occurrence",
                    field=field_path((*path, key)),
                )
            self.positions[(*path, key)] = self.pos(key_node)
            out[key] = self.build(value_node, (*path, key))
        # `<<:` fills in only the keys not written explicitly; the first source wins (YAML merge).
        for source, at in merged:
            for key_node, value_node in source.value:
                if key_node.tag == _TAG + "merge":
                    continue  # nested merges were resolved when the anchor was first built
                key = self.key(key_node)
                if key not in out:
                    self.positions[(*at, key)] = self.pos(key_node)
                    out[key] = self.build(value_node, (*at, key))
        return out

    def _merge_sources(self, node: Node) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [self._flatten_merge(node)]
        if isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
            return [self._flatten_merge(n) for n in node.value]
        raise self.fail(node, "`<<` (merge) needs an anchored mapping or a list of them")

    def _flatten_merge(self, node: MappingNode) -> MappingNode:
        """A merged mapping may itself merge others; fold them in so lookups see every key."""
        if not any(k.tag == _TAG + "merge" for k, _ in node.value):
            return node
        own = [(k, v) for k, v in node.value if k.tag != _TAG + "merge"]
        names = {k.value for k, _ in own if isinstance(k, ScalarNode)}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                for source in self._merge_sources(value_node):
                    for k, v in source.value:
                        if isinstance(k, ScalarNode) and k.value not in names:
                            names.add(k.value)
                            own.append((k, v))
        return MappingNode(node.tag, own, node.start_mark, node.end_mark)

    def key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, "a key must be plain text, not a list or mapping")
        value = self.scalar(node)
        if not isinstance(value, str):
            raise self.fail(
                node,
                f"a key must be text, got {node.value!r} (read as {type(value).__name__})",
                suggestion=f'quote it: "{node.value}"',
            )
        return value

    def scalar(self, node: ScalarNode, path: PathT = ()) -> Any:
        text, tag = node.value, node.tag
        field = field_path(path)
        if tag == _TAG + "str":
            return text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            if text not in ("true", "True", "TRUE", "false", "False", "FALSE"):
                raise self.fail(
                    node, f"{text!r} is not a boolean; write true or false", field=field
                )
            return text.lower() == "true"
        if tag == _TAG + "int":
            return self._int(node, field)
        if tag == _TAG + "float":
            if text.lower() in _SPECIAL_FLOATS:
                return _SPECIAL_FLOATS[text.lower()]
            if text.lower() in (".nan", "+.nan", "-.nan") or not _FLOAT.match(text):
                raise self.fail(node, f"{text!r} is not a plain decimal number", field=field)
            return float(text)
        if tag == _TAG + "timestamp":
            return text  # dates stay text; fields that want a date parse it themselves
        raise self.fail(
            node,
            f"unsupported tag {tag!r}",
            suggestion="manifests use plain YAML values; secrets are written {env: NAME}",
            field=field,
        )

    def _int(self, node: ScalarNode, field: str) -> int:
        text = node.value
        if _DECIMAL_INT.match(text):
            return int(text)
        if _LEADING_ZERO.match(text):
            digits = text.lstrip("+-")
            yaml11 = (
                f"the octal number {int(digits, 8)}"
                if set(digits) <= set("01234567")
                else "text (it is not valid octal)"
            )
            raise self.fail(
                node,
                f"{text!r} has a leading zero: YAML 1.1 reads it as {yaml11}, YAML 1.2 as the "
                f"number {int(text)}",
                suggestion=f'write {int(text)} if you mean the number, or quote it ("{text}") '
                "if you mean text",
                field=field,
            )
        raise self.fail(
            node,
            f"{text!r} is a number in a form that YAML versions read differently "
            "(octal, hexadecimal, binary or with underscores)",
            suggestion="write it as a plain decimal number, or quote it if you mean text",
            field=field,
        )


def _yaml() -> YAML:
    yaml = YAML(typ="safe")  # uses the C parser when ruamel.yaml.clib is installed
    yaml.version = (1, 2)
    return yaml


def _check_text(text: str, name: str) -> None:
    for lineno, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise ManifestError(
                [
                    Problem(
                        "a tab character is used for indentation; YAML allows spaces only",
                        Position(name, lineno, indent.index("\t") + 1),
                        suggestion="replace the tab with spaces",
                    )
                ]
            )
        if line.startswith("%YAML"):
            raise ManifestError(
                [
                    Problem(
                        f"the directive {line.strip()!r} is not supported; manifests are read as "
                        "YAML 1.2",
                        Position(name, lineno, 1),
                        suggestion="remove the directive",
                    )
                ]
            )


def parse_yaml_text(text: str, name: str) -> tuple[Any, dict[PathT, Position]]:
    """Parse YAML text; every problem becomes a ManifestError with file:line:column."""
    if "\t" in text or "%YAML" in text:
        _check_text(text, name)
    try:
        root = _yaml().compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(name, mark.line + 1, mark.column + 1) if mark else Position(name, 1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        hint = ""
        if "expected a single document" in what or "but found another document" in what:
            what = "the file holds more than one YAML document (`---`)"
            hint = "use one document per file; split the rest into another .yaml file"
        elif "unexpected ':'" in what:
            hint = 'inside {...} or [...], quote a value that holds a colon: "embedded:state.json"'

        raise ManifestError([Problem(f"YAML syntax error: {what}", pos, suggestion=hint)]) from None
    except YAMLError as exc:
        raise ManifestError([Problem(f"YAML syntax error: {exc}", Position(name, 1, 1))]) from None
    positions: dict[PathT, Position] = {(): Position(name, 1, 1)}
    if root is None:
        return None, positions
    builder = _Builder(name)
    data = builder.build(root, ())
    builder.positions[()] = Position(name, 1, 1)
    return data, builder.positions


def load_yaml_file(path: Path, display: str | None = None) -> LoadedFile:
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError([Problem(f"file not found: {name}")]) from None
    except OSError as exc:
        raise ManifestError([Problem(f"cannot read {name}: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestError(
            [
                Problem(
                    f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)",
                    Position(name, line, 1),
                    suggestion="save the file as UTF-8",
                )
            ]
        ) from None
    data, positions = parse_yaml_text(text, name)
    return LoadedFile(path, data, positions, name)
