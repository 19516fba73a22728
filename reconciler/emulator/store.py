"""The emulator's state: objects keyed by int ID per class, rule globals, users, locks.

Persisted as one JSON file, written atomically (temp file in the same folder + os.replace), so a
crash never leaves a half-written state. Locks and client sessions live in memory only.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.emulator.classes import CLASSES

STATE_FORMAT = 1


@dataclass
class EmulatorConfig:
    """Settings that shape the emulator's behaviour; persisted with the state."""

    users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    server_version: str = "5.3.0"
    hostname: str = "greyhound-emulator"
    max_clients_per_user: int = 20
    # simulated mail endpoints: CheckConnection answers these without network (DESIGN.md §7)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    mail_ca_file: str | None = None  # CA bundle for real CheckConnection to test servers


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    def __init__(self, path: Path | None, config: EmulatorConfig | None = None):
        self.path = path
        self.lock = threading.RLock()
        self.config = config or EmulatorConfig()
        self.objects: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in CLASSES}
        self.globals: dict[str, str] = {}
        self.next_id = 1
        self.locks: dict[tuple[str, int], str] = {}  # (class, id) -> client id
        self.sessions: dict[str, set[str]] = {}  # user -> client ids seen
        self.writes = 0
        if path is not None and path.exists():
            self._load(path)
        elif path is not None:
            self.save()

    # --- persistence ---------------------------------------------------------------------------
    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"{path}: not an emulator state file of format {STATE_FORMAT}")
        cfg = data.get("config", {})
        self.config = EmulatorConfig(
            **{k: v for k, v in cfg.items() if k in EmulatorConfig.__dataclass_fields__}
        )
        self.next_id = data["next_id"]
        self.globals = data.get("globals", {})
        for name in CLASSES:
            self.objects[name] = {
                int(k): v for k, v in data.get("objects", {}).get(name, {}).items()
            }

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "format": STATE_FORMAT,
                "config": copy.deepcopy(self.config.__dict__),
                "next_id": self.next_id,
                "globals": dict(self.globals),
                "objects": {
                    n: {str(k): v for k, v in objs.items()} for n, objs in self.objects.items()
                },
            }

    def save(self) -> None:
        if self.path is None:
            return
        data = json.dumps(self.snapshot(), indent=1, sort_keys=True, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.writes += 1

    # --- seeding --------------------------------------------------------------------------------
    def seed(self, data: dict[str, Any]) -> None:
        """Load a live state document (`{"RpcPop3Accounts": [...], "globals": {...}}`)."""
        with self.lock:
            for name, spec in CLASSES.items():
                for obj in data.get(name, []):
                    new = copy.deepcopy(spec.template)
                    new.update(obj)
                    new["ID"] = self.next_id
                    new["Created"] = new["Modified"] = now()
                    self.objects[name][self.next_id] = new
                    self.next_id += 1
            self.globals.update(data.get("globals", {}))
            self.save()

    def count(self, cls: str) -> int:
        return len(self.objects[cls])
