"""The addresses the rules never use: Elements users, GREYHOUND group addresses and the blacklist.

Users come from the ERP file; group addresses and the blacklist from an environment folder (the
groups as `expand` derives them, so a POP3 account's implicit group counts) or from a blacklist
file. Every comparison is between normalized forms (reconciler/model/addresses.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ManifestError, Problem
from reconciler.manifest.yamlfile import load_yaml_file
from reconciler.model.addresses import AddressError, normalize_blacklist_entry


@dataclass(frozen=True)
class IgnoreList:
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    blacklist: frozenset[str] = frozenset()  # normalized entries: `a@b.example` or `@b.example`

    def reason(self, address: str) -> str | None:
        """Why a normalized address is ignored, or None when the rules may use it."""
        if address in self.users:
            return "Elements user"
        if address in self.groups:
            return "GREYHOUND group"
        if address in self.blacklist:
            return "blacklist"
        domain = "@" + address.rpartition("@")[2]
        if domain in self.blacklist:
            return f"blacklist {domain}"
        return None


@dataclass(frozen=True)
class IgnoreSource:
    """Group addresses and blacklist of one environment or blacklist file, with a label."""

    label: str
    groups: frozenset[str] = frozenset()
    blacklist: frozenset[str] = frozenset()
    warnings: list[str] = field(default_factory=list)

    def ignore_list(self, users: Iterable[str]) -> IgnoreList:
        return IgnoreList(frozenset(users), self.groups, self.blacklist)


def from_environment(env_dir: Path | str) -> IgnoreSource:
    from reconciler.manifest.environment import load_environment

    env = load_environment(Path(env_dir))
    return from_manifest(env.manifest, str(env_dir))


def from_manifest(manifest, label: str) -> IgnoreSource:
    from reconciler.expand import expand
    from reconciler.model.state import Kind

    groups = frozenset(g.fields["email"] for g in expand(manifest).of(Kind.GROUP))
    warnings = []
    if manifest.blacklist is None:
        warnings.append(f"{label} does not manage the blacklist; simulating with an empty one")
    return IgnoreSource(label, groups, frozenset(manifest.blacklist or ()), warnings)


def from_blacklist_file(path: Path | str) -> IgnoreSource:
    """A YAML file holding `blacklist: [...]` (an environment resource file works) or a bare list."""
    path = Path(path)
    loaded = load_yaml_file(path, str(path))
    data = loaded.data
    prefix: tuple = ()
    if isinstance(data, dict) and "blacklist" in data:
        data, prefix = data["blacklist"], ("blacklist",)
    if not isinstance(data, list):
        raise ManifestError(
            [
                Problem(
                    "expected a list of addresses and domains",
                    loaded.positions.get(prefix),
                    field="blacklist",
                    suggestion="write `blacklist: [noreply@marketplace.example, '@payments.example']`",
                )
            ]
        )
    entries, problems = set(), []
    for index, entry in enumerate(data):
        try:
            entries.add(normalize_blacklist_entry(entry))
        except AddressError as exc:
            problems.append(
                Problem(
                    str(exc),
                    loaded.positions.get((*prefix, index)),
                    field=f"blacklist[{index}]",
                    suggestion="an address (a@b.example) or a domain (@b.example)",
                )
            )
    if problems:
        raise ManifestError(problems)
    return IgnoreSource(str(path), frozenset(), frozenset(entries))


def load_source(path: Path | str) -> IgnoreSource:
    """An environment folder or a blacklist file, whichever `path` is."""
    path = Path(path)
    if path.is_dir():
        return from_environment(path)
    if path.is_file():
        return from_blacklist_file(path)
    raise ManifestError(
        [
            Problem(
                f"{path} does not exist",
                suggestion="pass an environment folder or a blacklist YAML file",
            )
        ]
    )
