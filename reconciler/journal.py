"""A local journal of apply steps (JSON lines), so an interrupted apply is visible next time.

Safety does not depend on it: the next plan re-reads the server and completes whatever is missing
(creates are looked up by name, never repeated blindly). The journal tells people what happened.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

JOURNAL_DIR = ".reconciler"
JOURNAL_FILE = "journal.jsonl"


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

    def begin(self, plan_id: str, total: int) -> None:
        self._write({"event": "begin", "plan": plan_id, "steps": total})

    def step(self, plan_id: str, step_id: str, status: str) -> None:
        self._write({"event": "step", "plan": plan_id, "step": step_id, "status": status})

    def end(self, plan_id: str, done: int, failed: int, skipped: int) -> None:
        self._write({"event": "end", "plan": plan_id, "done": done, "failed": failed, "skipped": skipped})

    def interrupted(self) -> tuple[str, int, int] | None:
        """(plan id, steps finished, steps planned) of the last apply if it never reached its end."""
        if not self.path.exists():
            return None
        last_begin = None
        finished = 0
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash
            if record.get("event") == "begin":
                last_begin, finished = record, 0
            elif record.get("event") == "step" and last_begin and record.get("plan") == last_begin["plan"]:
                finished += 1
            elif record.get("event") == "end":
                last_begin = None
        if last_begin is None:
            return None
        return last_begin["plan"], finished, last_begin["steps"]
