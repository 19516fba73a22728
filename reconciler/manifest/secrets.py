"""Resolve secret references (`{env: NAME}` / `{file: PATH}`) at the last moment, and remember every
resolved value so that output can be scrubbed of it as a second line of defence.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import ReconcilerError

if TYPE_CHECKING:  # the CLI imports this module at start-up; keep pydantic out of it
    from reconciler.model.manifest import SecretRef

_KNOWN_VALUES: set[str] = set()


class MissingSecret(ReconcilerError):
    pass


def scrub(text: str) -> str:
    """Replace any resolved secret value in text by a mask; used on everything we print."""
    for value in sorted(_KNOWN_VALUES, key=len, reverse=True):
        if value and len(value) >= 3 and value in text:
            text = text.replace(value, "***")
    return text


def remember(value: str) -> None:
    _KNOWN_VALUES.add(value)


def parse_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines; `#` comments and blank lines ignored; optional quotes stripped."""
    values: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:]
        name, sep, value = line.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ReconcilerError(f"{path}:{lineno}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


class SecretResolver:
    """Looks up references: the process environment first, then the environment's `env_file`."""

    def __init__(self, base_dir: Path, env_file: str | None = None):
        self.base_dir = base_dir
        self.file_values: dict[str, str] = {}
        if env_file:
            path = base_dir / env_file
            if not path.is_file():
                raise MissingSecret(
                    f"env_file {env_file!r} of the environment does not exist ({path}); create it "
                    "or remove `env_file` from environment.yaml"
                )
            if path.is_file():
                self.file_values = parse_env_file(path)
                for value in self.file_values.values():
                    remember(value)

    def resolve(self, ref: SecretRef, what: str) -> str:
        if ref.env is not None:
            value = os.environ.get(ref.env, self.file_values.get(ref.env))
            if value is None:
                raise MissingSecret(
                    f"secret for {what} is missing: environment variable {ref.env} is not set"
                )
            if value == "":
                raise MissingSecret(
                    f"secret for {what} is missing: environment variable {ref.env} is set but empty"
                )
        else:
            path = self.base_dir / ref.file
            try:
                value = path.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError:
                raise MissingSecret(
                    f"secret for {what} is missing: file {ref.file} cannot be read"
                ) from None
            if not value:
                raise MissingSecret(f"secret for {what} is missing: file {ref.file} is empty")
        remember(value)
        return value

    def require_all(self, needs: list[tuple[SecretRef, str]]) -> None:
        """Resolve every reference; one error names each missing one (reference, never value)."""
        missing = []
        for ref, what in needs:
            try:
                self.resolve(ref, what)
            except MissingSecret as exc:
                missing.append(str(exc))
        if len(missing) == 1:
            raise MissingSecret(missing[0])
        if missing:
            raise MissingSecret(
                f"{len(missing)} secrets are missing:\n" + "\n".join(f"  - {m}" for m in missing)
            )

    def available(self, ref: SecretRef) -> bool:
        try:
            self.resolve(ref, "check")
        except MissingSecret:
            return False
        return True
