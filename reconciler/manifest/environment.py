"""Load one environment folder: `environment.yaml`, its resource files and the bases it includes.

Layers are applied in order: each `include:` folder (its *.yaml files, sorted by name), then the
environment folder itself. Inside one layer a name may appear once per kind; a later layer overrides
an earlier one **field by field** (`{name: X, port: 2995}` changes only the port; a nested value such
as `delete_from_server` or `password` is replaced whole), and `{name: X, remove: true}` drops a
resource inherited from a base. Blacklist entries add up across layers (compared in canonical form);
`blacklist_remove:` drops inherited ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.errors import ManifestError, Position, Problem
from reconciler.manifest.errors import PathT, did_you_mean, problems_from_validation
from reconciler.manifest.yamlfile import LoadedFile, load_yaml_file
from reconciler.model.addresses import AddressError, normalize_blacklist_entry
from reconciler.model.manifest import (
    Filter,
    Group,
    Manifest,
    Pop3Account,
    Resources,
    SmtpAccount,
)

ENVIRONMENT_FILE = "environment.yaml"
EXTENSION_PREFIX = "x-"
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "pop3_accounts": Pop3Account,
    "smtp_accounts": SmtpAccount,
    "groups": Group,
    "filters": Filter,
}
NAMED_SECTIONS = tuple(SECTION_MODELS)
BLACKLIST_SECTIONS = ("blacklist", "blacklist_remove")
RESOURCE_KEYS = (*NAMED_SECTIONS, *BLACKLIST_SECTIONS)
# Keys of environment.yaml only: every Manifest field that is not a resource section, + include.
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


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _positions_by_entry(loaded: LoadedFile) -> dict[tuple[str, int], dict[PathT, Position]]:
    """Positions of each `section[index]` entry, keyed relative to the entry."""
    out: dict[tuple[str, int], dict[PathT, Position]] = {}
    for path, pos in loaded.positions.items():
        if len(path) >= 2 and path[0] in SECTION_MODELS and isinstance(path[1], int):
            out.setdefault((path[0], path[1]), {})[path[2:]] = pos
    return out


class _Merger:
    """Accumulates layers into one raw manifest dict plus a position for every merged path."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in NAMED_SECTIONS}
        self.item_pos: dict[tuple[str, str], dict[PathT, Position]] = {}
        self.removed: dict[tuple[str, str], Position | None] = {}
        self.blacklist: dict[str, Position | None] = {}
        self.blacklist_declared = False
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.layer = 0

    def add_layer(self, files: list[LoadedFile]) -> None:
        seen: dict[tuple[str, str], Position | None] = {}
        for loaded in files:
            data = loaded.data or {}
            entry_pos = _positions_by_entry(loaded)
            for section in NAMED_SECTIONS:
                entries = data.get(section)
                if entries is None:
                    continue
                if not isinstance(entries, list):
                    self.problems.append(
                        Problem(
                            f"expected a list of {section.replace('_', ' ')}, got a "
                            f"{type(entries).__name__}",
                            loaded.positions.get((section,)),
                            field=section,
                            suggestion="write each entry on its own line starting with `- `",
                        )
                    )
                    continue
                for index, entry in enumerate(entries):
                    own = entry_pos.get((section, index), {})
                    self._add_item(loaded, section, index, entry, own, seen)
            self._add_blacklist(loaded, data)
        self.layer += 1

    def _add_item(self, loaded, section, index, entry, own_pos, seen) -> None:
        pos = loaded.positions.get((section, index))
        where = f"{section}[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            self.problems.append(
                Problem(
                    "each entry needs a `name` (text)",
                    pos,
                    field=where,
                    suggestion="add `name: <account, group or filter name>`",
                )
            )
            return
        name = entry["name"]
        key = (section, name)
        if key in seen:
            first = seen[key]
            self.problems.append(
                Problem(
                    f"duplicate name {name!r} in {section}"
                    + (f" (first defined at {first})" if first else ""),
                    pos,
                    field=f"{where}.name",
                    suggestion="names identify resources; give each a unique name",
                )
            )
            return
        seen[key] = pos
        if entry.get("remove") is False:
            entry = {k: v for k, v in entry.items() if k != "remove"}
        if "remove" in entry:
            self._remove(section, name, entry, pos, where)
            return
        current = self.items[section].get(name)
        if current is None:
            if self._misspelt_override(section, name, entry, pos, where):
                return
            self.items[section][name] = dict(entry)
            self.item_pos[key] = {(): pos, **own_pos} if pos else dict(own_pos)
        else:
            # field by field: a key of the override replaces the base's value whole
            self.items[section][name] = {**current, **entry}
            self.item_pos[key].update(own_pos)

    def _remove(self, section: str, name: str, entry: dict, pos, where: str) -> None:
        if entry["remove"] is not True:
            self.problems.append(
                Problem(
                    f"`remove` must be true or false, got {entry['remove']!r}",
                    pos,
                    field=f"{where}.remove",
                )
            )
            return
        extra = sorted(k for k in entry if k not in ("name", "remove"))
        if extra:
            self.problems.append(
                Problem(
                    f"`remove: true` takes only the name, but {', '.join(extra)} given too",
                    pos,
                    field=where,
                    suggestion="drop the other keys, or drop `remove: true` to override fields",
                )
            )
            return
        if name not in self.items[section]:
            known = list(self.items[section])
            self.problems.append(
                Problem(
                    f"`remove: true` for {name!r}, but no included base defines it",
                    pos,
                    field=where,
                    suggestion=did_you_mean(name, known)
                    or "remove only names inherited from an included base",
                )
            )
            return
        del self.items[section][name]
        self.item_pos.pop((section, name), None)
        self.removed[(section, name)] = pos

    def _misspelt_override(self, section, name, entry, pos, where) -> bool:
        """A new name in an overriding layer that lacks required fields is likely a typo."""
        if self.layer == 0 or not self.items[section]:
            return False
        model = SECTION_MODELS[section]
        missing = [k for k, f in model.model_fields.items() if f.is_required() and k not in entry]
        hint = did_you_mean(name, list(self.items[section]))
        if not missing or not hint:
            return False
        self.problems.append(
            Problem(
                f"{name!r} is not defined in an included base, and as a new entry it lacks "
                f"{', '.join(missing)}",
                pos,
                field=f"{where}.name",
                suggestion=hint,
            )
        )
        return True

    def _add_blacklist(self, loaded: LoadedFile, data: dict) -> None:
        for section in BLACKLIST_SECTIONS:
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
                self._blacklist_entry(section, index, entry, pos)

    def _blacklist_entry(self, section: str, index: int, entry: Any, pos) -> None:
        where = f"{section}[{index}]"
        if not isinstance(entry, str):
            self.problems.append(
                Problem(f"expected an address or domain as text, got {entry!r}", pos, field=where)
            )
            return
        try:
            canonical = normalize_blacklist_entry(entry)
        except AddressError as exc:
            self.problems.append(Problem(str(exc), pos, field=where, rule=exc.rule))
            return
        if section == "blacklist":
            if canonical in self.blacklist:
                first = self.blacklist[canonical]
                self.warnings.append(
                    Problem(
                        f"{entry!r} is listed twice: it is the same as the entry at {first} "
                        f"(canonical form {canonical!r})",
                        pos,
                        field=where,
                        severity="warning",
                        rule="ADDR-004",
                        suggestion="remove one of them",
                    )
                )
            else:
                self.blacklist[canonical] = pos
        elif self.blacklist.pop(canonical, "absent") == "absent":
            self.problems.append(
                Problem(
                    f"{entry!r} (canonical {canonical!r}) is not in any included blacklist",
                    pos,
                    field=where,
                    suggestion="blacklist_remove drops entries inherited from a base",
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
            if pos is not None:
                positions[("blacklist", index)] = pos
        return raw, positions

    def check_removals(self) -> None:
        """domain.md §2: removing POP3 X also removes SMTP X, so keeping SMTP X is an error."""
        for (section, name), pos in self.removed.items():
            if section == "pop3_accounts" and name in self.items["smtp_accounts"]:
                self.problems.append(
                    Problem(
                        f"POP3 account {name!r} is removed but SMTP account {name!r} is kept; "
                        "GREYHOUND deletes both together",
                        pos,
                        field="pop3_accounts",
                        suggestion=f"also remove the SMTP account: {{name: {name}, remove: true}} "
                        "under smtp_accounts",
                    )
                )


def _check_top_keys(loaded: LoadedFile, is_env_file: bool) -> list[Problem]:
    name = loaded.display
    allowed = (*ENV_ONLY_KEYS, *RESOURCE_KEYS) if is_env_file else RESOURCE_KEYS
    if loaded.data is None and is_env_file:
        return [
            Problem(
                f"{name} is empty; it needs at least the GREYHOUND connection",
                Position(name, 1, 1),
                field="greyhound",
                suggestion="start with `greyhound: {url: https://<server>, password: {env: NAME}}`",
            )
        ]
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
            Problem(
                f"expected a mapping of sections ({', '.join(allowed[:3])}, …) at the top of "
                f"the file, got {'a list' if isinstance(loaded.data, list) else 'a single value'}",
                Position(name, 1, 1),
            )
        ]
    problems = []
    for key, value in loaded.data.items():
        if key.startswith(EXTENSION_PREFIX):
            continue  # room for YAML anchors (`x-defaults: &acct {...}`), ignored otherwise
        if key not in allowed:
            if not is_env_file and key in ENV_ONLY_KEYS:
                hint = f"`{key}` belongs in {ENVIRONMENT_FILE}"
            else:
                hint = did_you_mean(key, list(allowed)) or f"known sections: {', '.join(allowed)}"
            problems.append(
                Problem(
                    f"unknown section {key!r}",
                    loaded.positions.get((key,)),
                    field=key,
                    suggestion=hint,
                )
            )
        elif value is None and key != "env_file":
            problems.append(
                Problem(
                    f"`{key}:` has no value; an empty section never means 'none'",
                    loaded.positions.get((key,)),
                    field=key,
                    suggestion=f"write `{key}: []` to declare none, or remove the line",
                )
            )
    return problems


def _include_dirs(
    env_file: LoadedFile, directory: Path
) -> tuple[list[tuple[Path, str, int]], list[Problem]]:
    include = env_file.data.get("include", [])
    positions = env_file.positions
    if isinstance(include, str):
        include = [include]
    if not isinstance(include, list) or not all(isinstance(i, str) for i in include):
        return [], [
            Problem(
                "expected a list of folder paths",
                positions.get(("include",)),
                field="include",
                suggestion="include: [../base]",
            )
        ]
    out: list[tuple[Path, str, int]] = []
    problems = []
    seen: set[Path] = set()
    for index, rel in enumerate(include):
        pos = positions.get(("include", index), positions.get(("include",)))
        where = f"include[{index}]"
        folder = (directory / rel).resolve()
        if not folder.is_dir():
            problems.append(
                Problem(
                    f"included folder {rel!r} does not exist",
                    pos,
                    field=where,
                    suggestion="paths are relative to the environment folder, e.g. ../base",
                )
            )
        elif folder == directory.resolve() or folder in seen:
            problems.append(
                Problem(
                    f"{rel!r} is included twice (or is the environment itself)", pos, field=where
                )
            )
        elif (folder / ENVIRONMENT_FILE).exists():
            problems.append(
                Problem(
                    f"{rel!r} is an environment (it has an {ENVIRONMENT_FILE}); include only base "
                    "folders of resource files",
                    pos,
                    field=where,
                    suggestion="move the shared files into a base folder that both include",
                )
            )
        elif not _yaml_files(folder):
            problems.append(
                Problem(f"included folder {rel!r} holds no .yaml files", pos, field=where)
            )
        else:
            seen.add(folder)
            out.append((folder, rel, index))
    return out, problems


def _load_folder(folder: Path, skip: Path | None = None) -> tuple[list[LoadedFile], list[Problem]]:
    files, problems = [], []
    for path in _yaml_files(folder):
        if skip is not None and path.name == skip.name:
            continue
        try:
            loaded = load_yaml_file(path, display_path(path))
        except ManifestError as exc:
            problems += exc.problems
            continue
        problems += _check_top_keys(loaded, False)
        files.append(loaded)
    return files, problems


def load_environment(
    env_dir: Path | str, *, today: dt.date | None = None, strict: bool = False
) -> Environment:
    """Load, merge, validate and lint one environment; ManifestError lists every problem found.

    `today` dates the date-gated lint rules (default: the current date); `strict` turns warnings
    into errors (`validate --strict`).
    """
    directory = Path(env_dir)
    env_path = directory / ENVIRONMENT_FILE
    if not directory.is_dir():
        raise ManifestError(
            [
                Problem(
                    f"{display_path(directory)} is not an environment folder",
                    suggestion="pass environments/<name>",
                )
            ]
        )
    if not env_path.is_file():
        raise ManifestError(
            [
                Problem(
                    f"{display_path(directory)} has no {ENVIRONMENT_FILE}",
                    suggestion="every environment folder needs one with at least a `greyhound:` "
                    "connection (a base folder is included by an environment, not validated alone)",
                )
            ]
        )
    env_file = load_yaml_file(env_path, display_path(env_path))
    problems = _check_top_keys(env_file, True)
    if problems:
        raise ManifestError(problems)
    data = env_file.data

    includes, problems = _include_dirs(env_file, directory)
    layers: list[list[LoadedFile]] = []
    all_files = [env_path]
    for folder, _rel, _index in includes:
        files, found = _load_folder(folder)
        problems += found
        layers.append(files)
        all_files += [f.path for f in files]
    own, found = _load_folder(directory, skip=env_path)
    problems += found
    layers.append([env_file, *own])
    all_files += [f.path for f in own]
    if problems:
        raise ManifestError(problems)

    merger = _Merger()
    for layer in layers:
        merger.add_layer(layer)
    merger.check_removals()
    if merger.problems:
        raise ManifestError(merger.problems)
    raw, positions = merger.result()
    for key in ENV_ONLY_KEYS:
        if key in data and key != "include":
            raw[key] = data[key]
            for path, pos in env_file.positions.items():
                if path and path[0] == key:
                    positions[path] = pos
    positions[()] = Position(display_path(env_path), 1, 1)
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
    from reconciler.lint import drop_ignored, lint_environment
    from reconciler.manifest.checks import check_environment

    errors, warnings = check_environment(env)
    lint_errors, lint_warnings = lint_environment(env, today or dt.date.today())
    errors += lint_errors
    warnings = drop_ignored(merger.warnings + warnings + lint_warnings, manifest.lint.ignore)
    if strict:
        errors += [promote(w) for w in warnings]
        warnings = []
    if errors:
        raise ManifestError(errors + warnings)
    env.warnings = warnings
    return env


def promote(problem: Problem) -> Problem:
    """A warning reported as an error (`--strict`)."""
    from dataclasses import replace

    return replace(problem, severity="error")
