"""Fault injection for the emulator: latency, transient errors, dropped connections, "down" mode.

Set from `reconciler emulator serve` options or from Python (`RunningEmulator(..., faults=...)`,
or `running.faults.configure(error_rate=0.2)` while it runs). Each request draws one outcome:

- `error`: answered HTTP 503 before anything is done (a transient server error);
- `drop`: the connection is closed before the request is processed (nothing happened);
- `lost_reply`: the request is processed, then the connection is closed without an answer, so the
  client cannot know that it happened (the case that duplicates objects in naive clients);
- `down`: every request is answered HTTP 503 until down mode is switched off.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import dataclass, fields, replace
from enum import Enum


class Fault(Enum):
    NONE = "none"
    ERROR = "error"
    DROP = "drop"
    LOST_REPLY = "lost_reply"
    DOWN = "down"


@dataclass(frozen=True)
class FaultConfig:
    latency: float = 0.0  # seconds added to every request
    latency_max: float | None = None  # when set, latency is uniform in [latency, latency_max]
    error_rate: float = 0.0  # share of requests answered HTTP 503 before processing
    drop_rate: float = 0.0  # share whose connection is closed before processing
    lost_reply_rate: float = 0.0  # share processed, then closed without an answer
    down: bool = False  # every request answered HTTP 503
    seed: int | None = None  # for reproducible draws

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate", "lost_reply_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.error_rate + self.drop_rate + self.lost_reply_rate > 1.0:
            raise ValueError("error_rate + drop_rate + lost_reply_rate must not exceed 1")
        if self.latency < 0 or (self.latency_max is not None and self.latency_max < self.latency):
            raise ValueError("latency must be >= 0 and latency_max >= latency")

    @property
    def active(self) -> bool:
        return self != FaultConfig(seed=self.seed)

    def describe(self) -> str:
        """The settings that differ from "no faults", e.g. `latency=0.05, error_rate=0.2`."""
        quiet = FaultConfig()
        return ", ".join(
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(quiet, f.name)
        )


class FaultInjector:
    """Thread-safe: the emulator's request threads draw from one seeded generator."""

    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)
        self._script: deque[Fault] = deque()
        self.counts: Counter[str] = Counter()

    def script(self, *faults: Fault) -> None:
        """The next requests get exactly these outcomes, in order (deterministic tests)."""
        with self._lock:
            self._script.extend(faults)

    def configure(self, **changes: object) -> FaultConfig:
        """Change some settings while the emulator runs, e.g. `configure(down=True)`."""
        unknown = set(changes) - {f.name for f in fields(FaultConfig)}
        if unknown:
            raise TypeError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self.config = replace(self.config, **changes)  # type: ignore[arg-type]
            if "seed" in changes:
                self._rng = random.Random(self.config.seed)
            return self.config

    def delay(self) -> float:
        cfg = self.config
        if cfg.latency_max is None:
            return cfg.latency
        with self._lock:
            return self._rng.uniform(cfg.latency, cfg.latency_max)

    def draw(self) -> Fault:
        cfg = self.config
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            fault = scripted
        elif cfg.down:
            fault = Fault.DOWN
        else:
            with self._lock:
                roll = self._rng.random()
            fault = Fault.NONE
            for rate, kind in (
                (cfg.error_rate, Fault.ERROR),
                (cfg.drop_rate, Fault.DROP),
                (cfg.lost_reply_rate, Fault.LOST_REPLY),
            ):
                if roll < rate:
                    fault = kind
                    break
                roll -= rate
        with self._lock:
            self.counts[fault.value] += 1
        return fault
