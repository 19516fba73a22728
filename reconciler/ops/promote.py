"""`reconciler promote A B`: carry A's changes into B's files, keeping B's own values.

"A's changes" are what changed in A's resolved manifest since a git revision (`--since`, default
HEAD: the changes not committed yet). They are applied to B three-way, field by field:

- a field A changed (old -> new) is set in B when B still has A's old value; when B has a value of its
  own (a host, an address, a secret name, a retention) it is B's override and stays;
- a resource A added is added to B (secret references renamed from A's prefix to B's, e.g.
  STAGING_X -> PROD_X), unless B already has one of that name; a resource A removed is removed from
  B; blacklist entries A added or removed are added to or removed from B.

Only B's own files are written (never an included base, which other environments share): a value is
changed where B's file sets it, a resource inherited from a base gets an override entry (or
`remove: true`), new entries go to the first of B's files with that section, else `promoted.yaml`.
Comments, anchors and key order survive (ruamel round trip). The result is validated before
anything is written, and every file is replaced atomically: the outcome is a reviewable `git diff`.
"""

from __future__ import annotations

import difflib
import io
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconciler.errors import ManifestError, ReconcilerError
from reconciler.manifest.environment import (
    ENVIRONMENT_FILE,
    NAMED_SECTIONS,
    Environment,
    display_path,
    load_environment,
)
from reconciler.manifest.yamlfile import load_yaml_file
from reconciler.model.addresses import AddressError, normalize_blacklist_entry
from reconciler.model.manifest import Manifest
from reconciler.ops.yamlout import Style, dump, flow_list, flow_map, load_round_trip, write_files

PROMOTED_FILE = "promoted.yaml"
# values that usually differ per environment: flagged for review when a new resource is copied
ENVIRONMENT_BOUND = ("host", "username", "group_email", "email", "senders")


class PromoteError(ReconcilerError):
    pass


@dataclass
class Promotion:
    actions: list[str] = field(default_factory=list)  # what was carried over
    kept: list[str] = field(default_factory=list)  # where B keeps its own value
    files: dict[Path, str] = field(default_factory=dict)  # new texts of B's files
    before: dict[Path, str] = field(default_factory=dict)

    def diff(self) -> str:
        out = []
        for path, text in self.files.items():
            name = display_path(path)
            out += difflib.unified_diff(
                self.before.get(path, "").splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
        return "".join(out)


# --- A as it was at a git revision ----------------------------------------------------------------
def _git(cwd: Path, *args: str, binary: bool = False):
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PromoteError(f"git {' '.join(args)} failed: {exc}") from None
    if done.returncode != 0:
        raise PromoteError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout if binary else done.stdout.decode().strip()


def manifest_at(env: Environment, ref: str) -> Manifest | None:
    """The environment's manifest as committed at `ref`; None when it did not exist there."""
    folder = env.directory.resolve()
    try:
        root = Path(_git(folder, "rev-parse", "--show-toplevel"))
    except PromoteError:
        raise PromoteError(
            f"promote reads {env.name}'s earlier state from git, but {display_path(folder)} is not "
            "in a git repository"
        ) from None
    parent = folder.parent.relative_to(root)
    listed = _git(root, "ls-tree", "-r", "--name-only", ref, "--", str(folder.relative_to(root)))
    if not listed:
        return None
    # the environment's parent folder holds it and, as a rule, the bases it includes
    archive = _git(root, "archive", "--format=tar", ref, "--", str(parent), binary=True)
    with tempfile.TemporaryDirectory(prefix="reconciler-promote-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: refuse links and odd paths
                tar.extractall(tmp, filter="data")
            else:  # pragma: no cover - git archive of a repository path holds plain files
                tar.extractall(tmp)  # noqa: S202
        try:
            old = load_environment(Path(tmp) / folder.relative_to(root))
        except ManifestError as exc:
            raise PromoteError(
                f"{env.name} as of {ref} cannot be read: {exc.problems[0].format()}"
            ) from None
        return old.manifest


# --- three-way merge on the resolved manifests ---------------------------------------------------
def _entries(m: Manifest | None, section: str) -> dict[str, dict[str, Any]]:
    if m is None:
        return {}
    return {e.name: e.model_dump(mode="json") for e in getattr(m, section)}


def _written(m: Manifest, section: str, name: str) -> dict[str, Any]:
    """An entry as its files write it (no defaults filled in)."""
    entry = next(e for e in getattr(m, section) if e.name == name)
    return entry.model_dump(mode="json", exclude_unset=True, exclude_none=True)


def _blacklist(m: Manifest | None) -> set[str]:
    return set(m.blacklist or []) if m is not None else set()


@dataclass
class Edit:
    op: str  # set | add | remove | bl_add | bl_remove
    section: str = ""
    name: str = ""
    field: str = ""
    value: Any = None


def rename_secrets(entry: dict[str, Any], a: str, b: str) -> dict[str, Any]:
    """{env: STAGING_X} -> {env: PROD_X}: the naming convention most setups follow."""
    prefix_a, prefix_b = a.upper().replace("-", "_") + "_", b.upper().replace("-", "_") + "_"
    out = dict(entry)
    ref = out.get("password")
    if isinstance(ref, dict) and str(ref.get("env", "")).startswith(prefix_a):
        out["password"] = {"env": prefix_b + ref["env"][len(prefix_a) :]}
    return out


def three_way(
    old: Manifest | None, new: Manifest, b: Manifest, a_name: str, b_name: str
) -> tuple[list[Edit], list[str], list[str]]:
    edits: list[Edit] = []
    actions: list[str] = []
    kept: list[str] = []
    for section in NAMED_SECTIONS:
        before, after, theirs = _entries(old, section), _entries(new, section), _entries(b, section)
        what = section.removesuffix("s").replace("_", " ")
        for name in sorted(after.keys() - before.keys()):
            if name in theirs:
                if theirs[name] != rename_secrets(after[name], a_name, b_name):
                    kept.append(f"{what} {name!r}: new in {a_name}, but {b_name} has its own; kept")
                continue
            entry = rename_secrets(_written(new, section, name), a_name, b_name)
            edits.append(Edit("add", section, name, value=entry))
            copied = [k for k in ENVIRONMENT_BOUND if k in entry]
            review = f" (review {', '.join(copied)}: copied from {a_name})" if copied else ""
            actions.append(f"add {what} {name!r}{review}")
        for name in sorted(before.keys() - after.keys()):
            if name in theirs:
                edits.append(Edit("remove", section, name))
                actions.append(f"remove {what} {name!r}")
        for name in sorted(before.keys() & after.keys()):
            old_e, new_e = before[name], after[name]
            for key in sorted(set(old_e) | set(new_e)):
                was, now = old_e.get(key), new_e.get(key)
                if was == now:
                    continue
                if name not in theirs:
                    kept.append(
                        f"{what} {name!r}: {key} changed in {a_name}; {b_name} has no {what} {name!r}"
                    )
                    continue
                mine = theirs[name].get(key)
                if mine == now:
                    continue
                if mine != was:
                    kept.append(
                        f"{what} {name!r}: {key} changed in {a_name} ({_show(was)} -> {_show(now)}); "
                        f"{b_name} keeps its own {_show(mine)}"
                    )
                    continue
                edits.append(Edit("set", section, name, key, now))
                actions.append(f"set {what} {name!r} {key}: {_show(mine)} -> {_show(now)}")
    added, removed = _blacklist(new) - _blacklist(old), _blacklist(old) - _blacklist(new)
    theirs_bl = _blacklist(b)
    for entry in sorted(added - theirs_bl):
        edits.append(Edit("bl_add", value=entry))
        actions.append(f"add blacklist entry {entry}")
    for entry in sorted(removed & theirs_bl):
        edits.append(Edit("bl_remove", value=entry))
        actions.append(f"remove blacklist entry {entry}")
    return edits, actions, kept


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, bool):
        return str(value).lower()
    return "(none)" if value is None else str(value)


# --- writing into B's own files ------------------------------------------------------------------
def _yaml_value(value: Any) -> Any:
    if isinstance(value, dict):
        return flow_map({k: _yaml_value(v) for k, v in value.items()})
    if isinstance(value, list):
        return flow_list(list(value))
    return value


def _canonical(entry: Any) -> str | None:
    try:
        return normalize_blacklist_entry(str(entry))
    except AddressError:
        return None


class _Files:
    """B's own files, loaded for round-trip editing, and what its included bases define."""

    def __init__(self, env: Environment):
        self.folder = env.directory
        env_file = self.folder / ENVIRONMENT_FILE
        own = sorted(
            p for p in self.folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
        )
        self.order = [env_file] + [p for p in own if p != env_file]
        loaded = {p: load_round_trip(p) for p in self.order}
        self.docs = {p: doc for p, (doc, _) in loaded.items()}
        self.styles = {p: style for p, (_, style) in loaded.items()}
        self.texts = {p: p.read_text(encoding="utf-8") for p in self.order}
        self.touched: set[Path] = set()
        self.base_names: dict[str, set[str]] = {s: set() for s in NAMED_SECTIONS}
        self.base_blacklist: set[str] = set()
        includes = (self.docs[env_file] or {}).get("include", [])
        for rel in [includes] if isinstance(includes, str) else includes:
            base = (self.folder / rel).resolve()
            for path in sorted(base.glob("*.y*ml")):
                data = load_yaml_file(path).data or {}
                for section in NAMED_SECTIONS:
                    self.base_names[section] |= {e["name"] for e in data.get(section) or []}
                self.base_blacklist |= {
                    c for e in data.get("blacklist") or [] if (c := _canonical(e))
                }

    def _doc_with(self, section: str, create: bool = True) -> CommentedMap:
        for path in self.order[1:] + self.order[:1]:
            doc = self.docs[path]
            if isinstance(doc, dict) and isinstance(doc.get(section), list):
                self.touched.add(path)
                return doc
        if not create:
            raise KeyError(section)
        path = self.folder / PROMOTED_FILE
        if path not in self.docs:
            self.docs[path] = CommentedMap()
            self.order.append(path)
        doc = self.docs[path]
        doc[section] = CommentedSeq()
        self.touched.add(path)
        return doc

    def own_entry(self, section: str, name: str) -> tuple[Path, CommentedSeq, int] | None:
        for path in self.order:
            items = (self.docs[path] or {}).get(section)
            if isinstance(items, list):
                for index, item in enumerate(items):
                    if isinstance(item, dict) and item.get("name") == name:
                        return path, items, index
        return None

    def apply(self, edit: Edit) -> None:
        if edit.op == "set":
            found = self.own_entry(edit.section, edit.name)
            if found is None:  # inherited from a base: override just this field
                self._doc_with(edit.section)[edit.section].append(CommentedMap(name=edit.name))
                found = self.own_entry(edit.section, edit.name)
                assert found is not None
            path, items, index = found
            items[index][edit.field] = _yaml_value(edit.value)
            self.touched.add(path)
        elif edit.op == "add":
            entry = CommentedMap((k, _yaml_value(v)) for k, v in edit.value.items())
            self._doc_with(edit.section)[edit.section].append(entry)
        elif edit.op == "remove":
            found = self.own_entry(edit.section, edit.name)
            inherited = edit.name in self.base_names[edit.section]
            if found is not None:
                path, items, index = found
                del items[index]
                self.touched.add(path)
            if inherited:
                self._doc_with(edit.section)[edit.section].append(
                    CommentedMap(name=edit.name, remove=True)
                )
        elif edit.op == "bl_add":
            # a base entry that B drops with blacklist_remove comes back by dropping that line
            if edit.value in self.base_blacklist and self._drop_from(
                "blacklist_remove", edit.value
            ):
                return
            self._doc_with("blacklist")["blacklist"].append(edit.value)
        elif edit.op == "bl_remove":
            self._drop_from("blacklist", edit.value)
            if edit.value in self.base_blacklist:
                self._doc_with("blacklist_remove")["blacklist_remove"].append(edit.value)

    def _drop_from(self, section: str, canonical: str) -> bool:
        dropped = False
        for path in self.order:
            items = (self.docs[path] or {}).get(section)
            if not isinstance(items, list):
                continue
            for index in reversed(range(len(items))):
                if _canonical(items[index]) == canonical:
                    del items[index]
                    self.touched.add(path)
                    dropped = True
        return dropped

    def texts_out(self) -> dict[Path, str]:
        header = "Promoted resources (reconciler promote); move them wherever suits you."
        out = {}
        for path in sorted(self.touched):
            text = dump(
                self.docs[path],
                header if path.name == PROMOTED_FILE and path not in self.texts else "",
                self.styles.get(path, Style()),
            )
            if text != self.texts.get(path):
                out[path] = text
        return out


def _validate(env: Environment, texts: dict[Path, str]) -> None:
    """Load B with the new texts in a scratch copy next to it (so `../base` still resolves)."""
    folder = env.directory.resolve()
    with tempfile.TemporaryDirectory(prefix=f".{folder.name}-promote-", dir=folder.parent) as tmp:
        scratch = Path(tmp)  # a sibling of B: its relative includes resolve the same way
        ignore = shutil.ignore_patterns(".state", ".reconciler", ".git")
        shutil.copytree(folder, scratch, ignore=ignore, dirs_exist_ok=True)
        for path, text in texts.items():
            (scratch / path.name).write_text(text, encoding="utf-8")
        try:
            load_environment(scratch)
        except ManifestError as exc:
            problems = "\n".join(
                p.format().replace(str(scratch), str(folder)) for p in exc.problems
            )
            raise PromoteError(
                f"the promoted files for {env.name} would not be valid, nothing was written:\n{problems}"
            ) from None


def promote(a: Environment, b: Environment, since: str) -> Promotion:
    if a.directory.resolve() == b.directory.resolve():
        raise PromoteError("promote needs two different environments")
    old = manifest_at(a, since)
    edits, actions, kept = three_way(old, a.manifest, b.manifest, a.name, b.name)
    result = Promotion(actions=actions, kept=kept)
    if not edits:
        return result
    files = _Files(b)
    for edit in edits:
        files.apply(edit)
    result.files = files.texts_out()
    result.before = {p: files.texts.get(p, "") for p in result.files}
    _validate(b, result.files)
    return result


def write(result: Promotion) -> None:
    write_files(result.files)
