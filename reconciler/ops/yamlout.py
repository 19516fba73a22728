"""Writing manifests: one YAML style for every file the tool writes, and atomic replacement of files.

Style: block mappings and lists, two-space indent with list dashes indented, short maps and
lists (`password: {env: NAME}`, `senders: [a@x, b@x]`) in flow style, keys in a fixed order chosen
by the caller, no line folding. The same input always gives the same bytes.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent


@dataclass(frozen=True)
class Style:
    """Indentation of a file: ours by default, the file's own when an existing file is edited."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2  # of the dash inside the sequence indent


def _yaml(style: Style = Style()) -> YAML:
    yaml = YAML()  # round-trip mode: keeps comments and key order of files it edits
    yaml.default_flow_style = False
    yaml.indent(mapping=style.mapping, sequence=style.sequence, offset=style.offset)
    yaml.width = 4096  # never fold a long line
    yaml.preserve_quotes = True
    return yaml


def flow_map(data: dict[str, Any]) -> CommentedMap:
    out = CommentedMap(data)
    out.fa.set_flow_style()
    return out


def flow_list(items: list[Any]) -> CommentedSeq:
    out = CommentedSeq(items)
    out.fa.set_flow_style()
    return out


def dump(doc: Any, header: str = "", style: Style = Style()) -> str:
    stream = io.StringIO()
    if header:
        stream.write("".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines()))
    _yaml(style).dump(doc, stream)
    return stream.getvalue()


def load_round_trip(path: Path) -> tuple[Any, Style]:
    """A file as ruamel's round-trip data (comments, anchors and order kept) for in-place edits,
    with its indentation, so that writing it back changes only what was edited."""
    text = path.read_text(encoding="utf-8")
    _data, sequence, offset = load_yaml_guess_indent(text)
    style = Style()  # nothing to guess from (no block sequence): ours
    if isinstance(sequence, int) and isinstance(offset, int):
        style = Style(mapping=max(sequence - offset, 2), sequence=sequence, offset=offset)
    return _yaml(style).load(text), style


def write_files(files: dict[Path, str]) -> None:
    """Write every file, or none: all texts go to temporary files first, then each is renamed over
    its target. A folder that does not exist yet is built aside and renamed into place whole."""
    by_folder: dict[Path, dict[Path, str]] = {}
    for path, text in files.items():
        by_folder.setdefault(path.parent, {})[path] = text
    staged: list[tuple[str, Path]] = []
    new_folders: list[tuple[Path, Path]] = []
    try:
        for folder, texts in by_folder.items():
            if folder.is_dir():
                for path, text in texts.items():
                    staged.append((_temp_file(folder, text), path))
            else:
                folder.parent.mkdir(parents=True, exist_ok=True)
                aside = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
                new_folders.append((aside, folder))
                aside.chmod(0o755)  # mkdtemp makes it private; the folder is an ordinary one
                for path, text in texts.items():
                    (aside / path.name).write_text(text, encoding="utf-8")
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        for aside, _ in new_folders:
            shutil.rmtree(aside, ignore_errors=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    for aside, folder in new_folders:
        os.replace(aside, folder)


def _temp_file(folder: Path, text: str) -> str:
    fd, tmp = tempfile.mkstemp(prefix=".reconciler-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp
