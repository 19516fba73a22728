"""HTTP requests and wall time of `plan` against the emulator with injected latency.

    python benchmarks/plan_requests.py [--latency 0.05] [--accounts 1 10]

For each size N (N POP3 + N SMTP accounts with all companions) it plans twice: against an empty
server (everything to create) and against a server that already holds the environment (after an
apply without latency). It reports the requests per RPC method, the sequential round trips and the
wall time, in-process (engine) and as the real CLI process. The goal: a constant, small number of
round trips whatever N is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the tests package holds the shared environment builders
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.emulator.server import RunningEmulator  # noqa: E402
from reconciler.emulator.store import EmulatorConfig, Store  # noqa: E402
from reconciler.engine import Options, make_plan, run_apply  # noqa: E402
from reconciler.greyhound.live import fetch_state  # noqa: E402
from reconciler.greyhound.rpc import RpcClient  # noqa: E402
from reconciler.manifest.environment import load_environment  # noqa: E402
from tests.helpers import REPO, endpoints_for, make_env, pop3, secrets_for, smtp  # noqa: E402

# preflight (GetServerInfo + GetServerStatus, with the marker read alongside), then every list and
# the blacklist global at once, then Logout: three sequential round trips
ROUND_TRIPS = 3


def _environment(folder: Path, url: str, names: list[str]) -> Path:
    return make_env(
        folder,
        url,
        [pop3(n) for n in names],
        [smtp(n) for n in names],
        blacklist=[f"x{i}@spam.example" for i in range(50)],
    )


async def _plan_in_process(env_dir: Path, emulator: RunningEmulator) -> tuple[float, dict]:
    env = load_environment(env_dir)
    before = dict(emulator.httpd.methods)
    start = time.perf_counter()
    await make_plan(env, Options(allow_http=True))
    seconds = time.perf_counter() - start
    methods = {m: n - before.get(m, 0) for m, n in emulator.httpd.methods.items()}
    return seconds, {m: n for m, n in methods.items() if n}


async def _read_only(url: str, password: str) -> float:
    """The protocol part of plan alone: preflight, every list, Logout (no manifest, no hashing)."""
    client = RpcClient(url, "admin", password)
    start = time.perf_counter()
    try:
        await fetch_state(client, url)
        await client.logout()
    finally:
        await client.aclose()
    return time.perf_counter() - start


def _plan_cli(env_dir: Path, secrets: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", str(env_dir)],
        cwd=REPO,
        env={**os.environ, **secrets},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"plan failed: {result.stderr}")
    return seconds


def _measure(size: int, latency: float) -> list[dict]:
    names = [f"A{i}" for i in range(size)]
    secrets = secrets_for(*names)
    os.environ.update(secrets)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = EmulatorConfig(
            users={"admin": secrets["GH_PASSWORD"]}, endpoints=endpoints_for(*names)
        )
        with RunningEmulator(Store(Path(tmp) / "state.json", config)) as emulator:
            env_dir = _environment(Path(tmp) / "env", emulator.url, names)
            for server in ("empty", "populated"):
                if server == "populated":
                    env = load_environment(env_dir)
                    code = asyncio.run(
                        run_apply(env, lambda p: True, lambda line: None, Options(allow_http=True))
                    )
                    assert code == 0, code
                emulator.faults.configure(latency=latency)
                seconds, methods = asyncio.run(_plan_in_process(env_dir, emulator))
                read_seconds = asyncio.run(_read_only(emulator.url, secrets["GH_PASSWORD"]))
                cli_seconds = _plan_cli(env_dir, secrets)
                emulator.faults.configure(latency=0.0)
                rows.append(
                    {
                        "size": size,
                        "server": server,
                        "objects": sum(len(o) for o in emulator.store.objects.values()),
                        "requests": sum(methods.values()),
                        "methods": methods,
                        "seconds": seconds,
                        "read_seconds": read_seconds,
                        "cli_seconds": cli_seconds,
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--accounts", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    bound = ROUND_TRIPS * args.latency
    print(
        f"latency {args.latency * 1000:.0f} ms per request; {ROUND_TRIPS} round trips = {bound * 1000:.0f} ms"
    )
    for size in args.accounts:
        for row in _measure(size, args.latency):
            print(
                f"{row['size']}+{row['size']} accounts, {row['server']} server "
                f"({row['objects']} objects): {row['requests']} requests, "
                f"plan {row['seconds'] * 1000:.0f} ms in-process "
                f"(of which reading the server {row['read_seconds'] * 1000:.0f} ms), "
                f"{row['cli_seconds'] * 1000:.0f} ms as a CLI process"
            )
        print("  per method: " + ", ".join(f"{m} {n}" for m, n in sorted(row["methods"].items())))


if __name__ == "__main__":
    main()
