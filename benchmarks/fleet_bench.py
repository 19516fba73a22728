"""Fleet plan benchmark: 50 environments, each an emulator answering with 50 ms latency per request.

Prints the wall time of one environment's plan and of the fleet plan at several concurrencies.
The goal is a fleet time close to one environment's time. The emulators run in a child process, as
real servers would be elsewhere, so only the reconciler's own work is measured here. Run from the
repository root:

    python benchmarks/fleet_bench.py [--environments 50] [--latency 0.05] [--accounts 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.emulator.faults import FaultConfig  # noqa: E402
from reconciler.emulator.server import RunningEmulator  # noqa: E402
from reconciler.emulator.store import EmulatorConfig, Store  # noqa: E402
from reconciler.engine import Options  # noqa: E402
from reconciler.ops.fleet import combine, plan_environment, run_fleet  # noqa: E402
from tests.helpers import make_env, pop3, secrets_for, smtp  # noqa: E402


def serve(count: int, latency: float) -> None:
    """Child process: `count` emulators, their URLs on stdout, until stdin closes."""
    with contextlib.ExitStack() as stack:
        for _ in range(count):
            config = EmulatorConfig(users={"admin": secrets_for()["GH_PASSWORD"]})
            emulator = stack.enter_context(
                RunningEmulator(Store(None, config), faults=FaultConfig(latency=latency))
            )
            print(emulator.url, flush=True)
        sys.stdin.read()


def build(root: Path, stack: contextlib.ExitStack, count: int, latency: float, accounts: int):
    child = stack.enter_context(
        subprocess.Popen(
            [sys.executable, __file__, "--serve", str(count), "--latency", str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    )
    stack.callback(child.stdin.close)
    names = [f"A{i}" for i in range(accounts)]
    os.environ.update(secrets_for(*names))
    return [
        make_env(
            root / f"env-{i:03d}",
            child.stdout.readline().strip(),
            [pop3(n) for n in names],
            [smtp(n) for n in names],
        )
        for i in range(count)
    ]


def timed_fleet(dirs: list[Path], concurrency: int) -> tuple[float, int]:
    options = Options(allow_http=True)
    started = time.perf_counter()
    results = run_fleet(
        dirs,
        lambda d: plan_environment(d, options, "text", detailed_exitcode=True),
        concurrency,
        lambda r: None,
    )
    return time.perf_counter() - started, combine(r.code for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--accounts", type=int, default=2, help="POP3+SMTP pairs per environment")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency)
        return
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        dirs = build(Path(tmp), stack, args.environments, args.latency, args.accounts)
        timed_fleet(dirs[:1], 1)  # warm up: imports outside the measurement
        single = [timed_fleet(dirs[:1], 1)[0] for _ in range(args.repeat)]
        one = statistics.median(single)
        print(
            f"{args.environments} environments, {args.accounts} POP3+SMTP account pairs each, "
            f"{args.latency * 1000:.0f} ms latency per request, {os.cpu_count()} CPU(s)"
        )
        print(f"one environment's plan:           {one:6.2f} s (median of {args.repeat})")
        for concurrency in (1, 8, 16, 32, args.environments):
            runs = [timed_fleet(dirs, concurrency) for _ in range(args.repeat)]
            wall = statistics.median(t for t, _ in runs)
            codes = {code for _, code in runs}
            print(
                f"fleet plan, concurrency {concurrency:>3}:    {wall:6.2f} s "
                f"({wall / one:4.1f}x one environment; exit {sorted(codes)})"
            )


if __name__ == "__main__":
    main()
