"""Plan and apply of a 10+10-account environment (all companions) against the emulator with injected
latency, versus the lower bound: the number of dependent rounds x latency.

    python benchmarks/apply_bench.py [--latency 0.05] [--parallelism 8 32]

Each run starts a fresh emulator process (`reconciler emulator serve --latency`) on 127.0.0.1 and
drives the real engine in-process against it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the tests package holds the shared environment builders
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.emulator.store import EmulatorConfig, Store  # noqa: E402
from reconciler.engine import Options, make_plan, run_apply  # noqa: E402
from reconciler.manifest.environment import load_environment  # noqa: E402
from tests.helpers import endpoints_for, make_env, pop3, secrets_for, smtp  # noqa: E402

NAMES = [f"A{i}" for i in range(10)]


def _rounds(plan) -> int:
    """Dependent rounds of an apply: the read, each wave of each phase (a locked update is four
    sequential calls: Lock, Get, Put, Unlock), the re-read and the marker write."""
    rounds = 1
    for phase in dict.fromkeys(s.phase for s in plan.steps):
        for wave in sorted({s.wave for s in plan.steps if s.phase == phase}):
            steps = [s for s in plan.steps if s.phase == phase and s.wave == wave]
            calls = 1
            if any(s.action.value in ("activate", "deactivate", "update") for s in steps):
                calls = 4
            elif any(
                s.kind.value == "filter" and any(c.field == "parent" and c.after for c in s.changes)
                for s in steps
            ):
                calls = 2  # New, then SetParent
            rounds += calls
    return rounds + 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(state: Path, latency: float) -> tuple[subprocess.Popen, str]:
    """The emulator in its own process, so its CPU does not compete with the client's GIL."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "emulator",
            "serve",
            "--state",
            str(state),
            "--port",
            str(port),
            "--latency",
            str(latency),
        ],
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
            return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("emulator did not start")


async def _run(latency: float, parallelism: int) -> dict:
    secrets = secrets_for(*NAMES)
    os.environ.update(secrets)
    with tempfile.TemporaryDirectory() as tmp:
        config = EmulatorConfig(
            users={"admin": secrets["GH_PASSWORD"]}, endpoints=endpoints_for(*NAMES)
        )
        Store(Path(tmp) / "state.json", config)  # writes the state file the server starts from
        proc, url = _serve(Path(tmp) / "state.json", latency)
        try:
            env_dir = make_env(
                Path(tmp) / "env",
                url,
                [pop3(n) for n in NAMES],
                [smtp(n) for n in NAMES],
                blacklist=[f"x{i}@spam.example" for i in range(50)],
            )
            env = load_environment(env_dir)
            options = Options(allow_http=True, parallelism=parallelism)
            start = time.perf_counter()
            result = await make_plan(env, options)
            plan_s = time.perf_counter() - start
            lines: list[str] = []
            start = time.perf_counter()
            code = await run_apply(env, lambda p: True, lines.append, options)
            apply_s = time.perf_counter() - start
            assert code == 0, lines[-3:]
            return {
                "steps": len(result.plan.steps),
                "plan_s": plan_s,
                "apply_s": apply_s,
                "rounds": _rounds(result.plan),
            }
        finally:
            proc.terminate()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    for parallelism in args.parallelism:
        r = asyncio.run(_run(args.latency, parallelism))
        bound = r["rounds"] * args.latency
        print(
            f"latency {args.latency * 1000:.0f} ms, parallelism {parallelism}: "
            f"plan {r['plan_s'] * 1000:.0f} ms; "
            f"apply of {r['steps']} steps {r['apply_s'] * 1000:.0f} ms (its own plan included); "
            f"lower bound {r['rounds']} dependent rounds x latency = {bound * 1000:.0f} ms; "
            f"apply/bound = {r['apply_s'] / bound:.2f}"
        )


if __name__ == "__main__":
    main()
