"""Load one environment folder: `environment.yaml`, its resource files and the bases it includes.

Layers are applied in order: each `include:` folder (its *.yaml files, sorted by name), then the
environment folder itself. Inside one layer a name may appear once per kind; a later layer overrides
an earlier one **field by field** (`{name: X, port: 2995}` changes only the port), and
`{name: X, remove: true}` drops a resource inherited from a base. Blacklist entries add up across
layers; `blacklist_remove:` drops inherited ones.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.errors import ManifestError, Position, Problem
from reconciler.manifest.errors import PathT, problems_from_validation
from reconciler.manifest.yamlfile import LoadedFile, load_yaml_file
from reconciler.model.manifest import Manifest, Resources

ENVIRONMENT_FILE = "environment.yaml"
NAMED_SECTIONS = ("pop3_accounts", "smtp_accounts", "groups", "filters")
RESOURCE_KEYS = (*NAMED_SECTIONS, "blacklist", "blacklist_remove")
ENV_ONLY_KEYS = tuple(k for k in Manifest.model_fields if k not in Resources.model_fields) + (
    "include",
)


@dataclass
class Environment:
    name: str
    directory: Path
    manifest: Manifest
    positions: dict[PathT, Position]
    files: list[Path] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def position(self, *path: str | int) -> Position | None:
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.positions:
                return self.positions[path[:cut]]
        return None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


class _Merger:
    """Accumulates layers into one raw manifest dict plus a position for every merged path."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in NAMED_SECTIONS}
        self.item_pos: dict[tuple[str, str], dict[PathT, Position]] = {}
        self.blacklist: dict[str, Position] = {}
        self.blacklist_declared = False
        self.problems: list[Problem] = []

    def add_layer(self, files: list[LoadedFile]) -> None:
        seen: dict[tuple[str, str], Position] = {}
        for loaded in files:
            data = loaded.data or {}
            for section in NAMED_SECTIONS:
                entries = data.get(section)
                if entries is None:
                    continue
                if not isinstance(entries, list):
                    self.problems.append(
                        Problem(
                            f"expected a list of {section.replace('_', ' ')}",
                            loaded.positions.get((section,)),
                            field=section,
                        )
                    )
                    continue
                for index, entry in enumerate(entries):
                    self._add_item(loaded, section, index, entry, seen)
            self._add_blacklist(loaded, data)

    def _add_item(self, loaded, section, index, entry, seen) -> None:
        pos = loaded.positions.get((section, index))
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            self.problems.append(
                Problem(
                    "each entry needs a `name` (a string)",
                    pos,
                    field=f"{section}[{index}]",
                    suggestion="add `name: <account or group name>`",
                )
            )
            return
        name = entry["name"]
        key = (section, name)
        if key in seen:
            self.problems.append(
                Problem(
                    f"duplicate name {name!r} in {section} (first defined at {seen[key]})",
                    pos,
                    field=f"{section}[{index}].name",
                    suggestion="names identify resources; give each a unique name",
                )
            )
            return
        seen[key] = pos
        own_pos = {
            p[2:]: v
            for p, v in loaded.positions.items()
            if len(p) >= 2 and p[0] == section and p[1] == index
        }
        if entry.get("remove") is False:
            entry = {k: v for k, v in entry.items() if k != "remove"}
        if entry.get("remove") is True:
            if name not in self.items[section]:
                self.problems.append(
                    Problem(
                        f"`remove: true` for {name!r}, but no base defines it",
                        pos,
                        field=f"{section}[{index}]",
                        suggestion="remove only names inherited from an included base",
                    )
                )
            self.items[section].pop(name, None)
            return
        current = self.items[section].get(name)
        if current is None:
            self.items[section][name] = dict(entry)
            self.item_pos[key] = {(): pos, **own_pos}
        else:
            self.items[section][name] = _merge(current, entry)
            self.item_pos[key].update(own_pos)

    def _add_blacklist(self, loaded: LoadedFile, data: dict) -> None:
        for section in ("blacklist", "blacklist_remove"):
            entries = data.get(section)
            if entries is None:
                continue
            self.blacklist_declared = True
            if not isinstance(entries, list):
                self.problems.append(
                    Problem(
                        "expected a list of addresses or domains",
                        loaded.positions.get((section,)),
                        field=section,
                    )
                )
                continue
            for index, entry in enumerate(entries):
                pos = loaded.positions.get((section, index))
                if section == "blacklist":
                    self.blacklist.setdefault(entry, pos)
                elif self.blacklist.pop(entry, None) is None:
                    self.problems.append(
                        Problem(
                            f"{entry!r} is not in any included blacklist",
                            pos,
                            field=f"blacklist_remove[{index}]",
                            suggestion="write the entry exactly as the base does",
                        )
                    )

    def result(self) -> tuple[dict[str, Any], dict[PathT, Position]]:
        raw: dict[str, Any] = {}
        positions: dict[PathT, Position] = {}
        for section in NAMED_SECTIONS:
            raw[section] = []
            for index, (name, item) in enumerate(self.items[section].items()):
                raw[section].append(item)
                for sub, pos in self.item_pos[(section, name)].items():
                    positions[(section, index, *sub)] = pos
        if self.blacklist_declared:
            raw["blacklist"] = list(self.blacklist)
        for index, pos in enumerate(self.blacklist.values()):
            positions[("blacklist", index)] = pos
        return raw, positions


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _check_top_keys(
    loaded: LoadedFile, allowed: tuple[str, ...], is_env_file: bool
) -> list[Problem]:
    problems = []
    name = _display(loaded.path)
    if loaded.data is None:
        return [
            Problem(
                f"{name} is empty; an empty file never means 'no accounts'",
                Position(name, 1, 1),
                suggestion="delete the file, or write `pop3_accounts: []` to say so explicitly",
            )
        ]
    if not isinstance(loaded.data, dict):
        return [
            Problem("expected a mapping of sections at the top of the file", Position(name, 1, 1))
        ]
    for key in loaded.data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if not is_env_file and key in ENV_ONLY_KEYS:
                hint = f"`{key}` belongs in {ENVIRONMENT_FILE}"
            else:
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"known sections: {', '.join(allowed)}"
                )
            problems.append(
                Problem(
                    f"unknown section {key!r}",
                    loaded.positions.get((key,)),
                    field=key,
                    suggestion=hint,
                )
            )
    return problems


def load_environment(env_dir: Path | str) -> Environment:
    directory = Path(env_dir)
    env_path = directory / ENVIRONMENT_FILE
    if not directory.is_dir():
        raise ManifestError(
            [
                Problem(
                    f"{_display(directory)} is not an environment folder",
                    suggestion="pass environments/<name>",
                )
            ]
        )
    if not env_path.is_file():
        raise ManifestError(
            [
                Problem(
                    f"{_display(directory)} has no {ENVIRONMENT_FILE}",
                    suggestion="every environment folder needs one with at least a `greyhound:` connection",
                )
            ]
        )
    env_file = load_yaml_file(env_path, _display(env_path))
    problems = _check_top_keys(env_file, (*ENV_ONLY_KEYS, *RESOURCE_KEYS), True)
    if problems:
        raise ManifestError(problems)
    data = env_file.data

    include = data.get("include", [])
    if isinstance(include, str):
        include = [include]
    layers: list[list[LoadedFile]] = []
    all_files = [env_path]
    for index, rel in enumerate(include if isinstance(include, list) else []):
        folder = (directory / str(rel)).resolve()
        if not folder.is_dir():
            problems.append(
                Problem(
                    f"included folder {rel!r} does not exist",
                    env_file.positions.get(("include", index)),
                    field=f"include[{index}]",
                    suggestion="paths are relative to the environment folder, e.g. ../base",
                )
            )
            continue
        files = []
        for path in _yaml_files(folder):
            if path.name == ENVIRONMENT_FILE:
                continue
            loaded = load_yaml_file(path, _display(path))
            problems += _check_top_keys(loaded, RESOURCE_KEYS, False)
            files.append(loaded)
            all_files.append(path)
        layers.append(files)
    own = [env_file]
    for path in _yaml_files(directory):
        if path.name == ENVIRONMENT_FILE:
            continue
        loaded = load_yaml_file(path, _display(path))
        problems += _check_top_keys(loaded, RESOURCE_KEYS, False)
        own.append(loaded)
        all_files.append(path)
    layers.append(own)
    if problems:
        raise ManifestError(problems)

    merger = _Merger()
    for layer in layers:
        merger.add_layer(layer)
    if merger.problems:
        raise ManifestError(merger.problems)
    raw, positions = merger.result()
    for key in ENV_ONLY_KEYS:
        if key in data and key != "include":
            raw[key] = data[key]
            for path, pos in env_file.positions.items():
                if path and path[0] == key:
                    positions[path] = pos
    positions[()] = Position(_display(env_path), 1, 1)
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        raise ManifestError(problems_from_validation(exc, Manifest, positions)) from None
    env = Environment(
        name=directory.resolve().name,
        directory=directory,
        manifest=manifest,
        positions=positions,
        files=all_files,
    )
    from reconciler.manifest.checks import check_environment

    errors, warnings = check_environment(env)
    if errors:
        raise ManifestError(errors + warnings)
    env.warnings = warnings
    return env
