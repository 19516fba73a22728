"""The emulator's state: objects keyed by int ID per class, rule globals, users, locks, sessions.

Persisted as one JSON file, written atomically (temp file in the same folder, fsync, os.replace),
so a crash never leaves a half-written state. Locks and client sessions live in memory only.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.emulator.classes import CLASSES, member_problem
from reconciler.errors import ReconcilerError
from reconciler.greyhound import protocol as P

STATE_FORMAT = 1


class StateError(ReconcilerError):
    """A state or seed file that cannot be used."""


@dataclass
class EmulatorConfig:
    """Settings that shape the emulator's behaviour; persisted with the state."""

    users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    server_version: str = "5.3.0"
    hostname: str = "greyhound-emulator"
    max_clients_per_user: int = P.DEFAULT_MAX_CLIENTS_PER_USER
    failing_components: list[str] = field(default_factory=list)  # GetServerStatus says sfFailure
    session_idle_seconds: float = P.SESSION_IDLE_SECONDS
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
        self.sessions: dict[str, dict[str, float]] = {}  # user -> client id -> last request
        self.writes = 0
        self.high_water: dict[str, int] = {}  # most objects per class seen at once (in memory)
        if path is not None and path.exists():
            self._load(path)
        elif path is not None:
            self.save()

    # --- persistence ---------------------------------------------------------------------------
    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
                raise ValueError(f"not an emulator state file of format {STATE_FORMAT}")
            cfg = data.get("config", {})
            self.config = EmulatorConfig(
                **{k: v for k, v in cfg.items() if k in EmulatorConfig.__dataclass_fields__}
            )
            self.next_id = int(data["next_id"])
            self.globals = dict(data.get("globals", {}))
            for name in CLASSES:
                self.objects[name] = {
                    int(k): v for k, v in data.get("objects", {}).get(name, {}).items()
                }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(
                f"emulator state {path} cannot be read: {exc}; delete it to start over"
            ) from None

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

    # --- sessions (the per-user Client-ID limit) --------------------------------------------------
    def open_session(self, user: str, client_id: str) -> bool:
        """Record a request of client_id; False when it would exceed the user's Client-ID limit."""
        with self.lock:
            sessions = self.sessions.setdefault(user, {})
            moment = time.monotonic()
            idle = self.config.session_idle_seconds
            for cid, seen in list(sessions.items()):
                if moment - seen > idle:
                    del sessions[cid]
                    self.release_locks(cid)
            if client_id not in sessions and len(sessions) >= self.config.max_clients_per_user:
                return False
            sessions[client_id] = moment
            return True

    def close_session(self, user: str, client_id: str) -> None:
        with self.lock:
            self.sessions.get(user, {}).pop(client_id, None)
            self.release_locks(client_id)

    def release_locks(self, client_id: str) -> None:
        for key in [k for k, holder in self.locks.items() if holder == client_id]:
            del self.locks[key]

    def user_of(self, client_id: str) -> str:
        for user, sessions in self.sessions.items():
            if client_id in sessions:
                return user
        return ""

    # --- seeding --------------------------------------------------------------------------------
    def seed(self, data: Any, source: str = "seed") -> None:
        """Load a live state document: `{"RpcPop3Accounts": [{...}, ...], ..., "globals": {...}}`.

        Objects keep the `ID` they are given (so references such as GroupRef stay valid); objects
        without one get the next free ID. Members are checked like those of `New`.
        """
        if not isinstance(data, dict):
            raise StateError(f"{source}: expected a JSON object with class names as keys")
        unknown = sorted(set(data) - set(CLASSES) - {"globals"})
        if unknown:
            raise StateError(
                f"{source}: unknown key(s) {', '.join(unknown)}; expected "
                f"{', '.join(CLASSES)} or globals"
            )
        seeded_globals = data.get("globals", {})
        if not isinstance(seeded_globals, dict) or not all(
            isinstance(v, str) for v in seeded_globals.values()
        ):
            raise StateError(f"{source}: globals must map names to strings")
        with self.lock:
            taken = {i for objs in self.objects.values() for i in objs}
            pending: list[tuple[str, dict[str, Any]]] = []
            for name, spec in CLASSES.items():
                items = data.get(name, [])
                if not isinstance(items, list):
                    raise StateError(f"{source}: {name} must be a list of objects")
                for index, obj in enumerate(items):
                    where = f"{source}: {name}[{index}]"
                    if not isinstance(obj, dict) or not isinstance(obj.get("Name", ""), str):
                        raise StateError(f"{where} must be an object with a Name")
                    problems = (member_problem(spec, k, v) for k, v in obj.items() if k != "ID")
                    problem = next((p for p in problems if p), None)
                    if problem:
                        raise StateError(f"{where}: {problem}")
                    new = copy.deepcopy(spec.template)
                    new.update(obj)
                    object_id = obj.get("ID") or 0
                    if not isinstance(object_id, int) or object_id < 0 or object_id in taken:
                        raise StateError(f"{where}: ID {object_id!r} is not a free positive int")
                    if object_id:
                        taken.add(object_id)
                    new["ID"] = object_id
                    new["Created"] = new.get("Created") or now()
                    new["Modified"] = new.get("Modified") or now()
                    pending.append((name, new))
            next_id = max([self.next_id - 1, *taken]) + 1
            for name, new in pending:
                if not new["ID"]:
                    new["ID"], next_id = next_id, next_id + 1
                self.objects[name][new["ID"]] = new
            self.next_id = next_id
            self.globals.update(seeded_globals)
            self.save()

    def count(self, cls: str) -> int:
        return len(self.objects[cls])
