"""A local journal of apply steps (JSON lines), so an interrupted apply is visible next time.

Safety does not depend on it: the next plan re-reads the server and completes whatever is missing
(creates are looked up by name, never repeated blindly). It also carries the password fingerprints of
the steps that wrote a password, so a crash before the marker is written loses no rotation record:
a create is journalled with its fingerprint *before* it is sent (if the account exists afterwards, it
was created with that password); a password update only once it is done (a Put that may not have
landed must not hide a rotation).
Fingerprints are salted scrypt hashes, never secret values.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

JOURNAL_DIR = ".reconciler"
JOURNAL_FILE = "journal.jsonl"


@dataclass
class Interrupted:
    plan_id: str
    finished: int
    total: int
    salt: str
    client_id: str = ""  # the GREYHOUND session of that apply: locks it held belong to it
    passwords: dict[str, str] = field(default_factory=dict)  # "kind/name" -> fingerprint


class Journal:
    def __init__(self, env_dir: Path):
        self.path = env_dir / JOURNAL_DIR / JOURNAL_FILE

    def _write(self, record: dict) -> None:
        record["at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def begin(self, plan_id: str, total: int, salt: str, client_id: str) -> None:
        self._write(
            {
                "event": "begin",
                "plan": plan_id,
                "steps": total,
                "salt": salt,
                "client_id": client_id,
            }
        )

    def step(self, plan_id: str, step_id: str, status: str, password: str | None = None) -> None:
        record = {"event": "step", "plan": plan_id, "step": step_id, "status": status}
        if password:
            record["password"] = password
        self._write(record)

    def end(self, plan_id: str, done: int, failed: int, skipped: int) -> None:
        self._write(
            {"event": "end", "plan": plan_id, "done": done, "failed": failed, "skipped": skipped}
        )

    def interrupted(self) -> Interrupted | None:
        """The last apply, if it never reached its end."""
        if not self.path.exists():
            return None
        current: Interrupted | None = None
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash
            event = record.get("event")
            if event == "begin":
                current = Interrupted(
                    record["plan"],
                    0,
                    record.get("steps", 0),
                    record.get("salt", ""),
                    record.get("client_id", ""),
                )
            elif event == "step" and current and record.get("plan") == current.plan_id:
                if record.get("status") != "started":
                    current.finished += 1
                if record.get("password") and record.get("status") in ("started", "done"):
                    _action, kind, name = record["step"].split(":", 2)
                    current.passwords[f"{kind}/{name}"] = record["password"]
            elif event == "end":
                current = None
        return current
