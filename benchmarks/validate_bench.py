"""Benchmark: validating a large environment, and the CLI's start-up time.

    python benchmarks/validate_bench.py [--runs N]

Builds a temporary environment with 10 POP3 + 10 SMTP accounts and a 20,000-entry blacklist
(addresses and domains, some in non-canonical case, a few IDN), then reports:
- load_environment in-process (parse, merge, validate, checks, lint): best and median of N runs;
- `reconciler validate ENV` as a process (what CI pays), median of N;
- `reconciler --help` start-up, median of N;
- whether ruamel.yaml's C parser (ruamel.yaml.clib) was in use.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCOUNTS = 10
BLACKLIST = 20_000


def write_environment(root: Path) -> Path:
    env = root / "bench"
    env.mkdir()
    (env / "environment.yaml").write_text(
        "greyhound:\n  url: https://greyhound.example.com\n  password: {env: GH_PASSWORD}\n"
    )
    lines = ["pop3_accounts:"]
    for i in range(ACCOUNTS):
        lines += [
            f"  - name: Account {i}",
            "    host: pop.example.com",
            f"    username: account{i}@example.com",
            f"    password: {{env: POP3_{i}}}",
            "    delete_from_server: {policy: after_days, days: 30}",
        ]
    lines.append("smtp_accounts:")
    for i in range(ACCOUNTS):
        lines += [
            f"  - name: Account {i}",
            "    host: smtp.example.com",
            f"    username: account{i}@example.com",
            f"    password: {{env: SMTP_{i}}}",
            f"    senders: [account{i}@example.com, info{i}@example.com]",
        ]
    (env / "accounts.yaml").write_text("\n".join(lines) + "\n")
    entries = []
    for i in range(BLACKLIST):
        if i % 10 == 0:
            entries.append(f'  - "@Sender-{i}.Example.NET"')
        elif i % 997 == 0:
            entries.append(f"  - kunde{i}@bücher-{i % 50}.example")
        else:
            entries.append(f"  - NoReply.{i}@shop-{i % 400}.example.com")
    (env / "blacklist.yaml").write_text("blacklist:\n" + "\n".join(entries) + "\n")
    return env


def timed(func, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

    from reconciler.manifest import yamlfile
    from reconciler.manifest.environment import load_environment

    clib = "clib" in yamlfile._yaml().Parser.__module__
    with tempfile.TemporaryDirectory() as tmp:
        env_dir = write_environment(Path(tmp))
        env = load_environment(env_dir)
        assert len(env.manifest.blacklist) == BLACKLIST, len(env.manifest.blacklist)
        assert len(env.manifest.pop3_accounts) == len(env.manifest.smtp_accounts) == ACCOUNTS
        in_process = timed(lambda: load_environment(env_dir), runs)
        cli = [sys.executable, "-m", "reconciler"]
        validate = timed(
            lambda: subprocess.run(
                [*cli, "validate", str(env_dir)], check=True, capture_output=True
            ),
            runs,
        )
    help_times = timed(
        lambda: subprocess.run([*cli, "--help"], check=True, capture_output=True), runs
    )

    print(f"environment: {ACCOUNTS}+{ACCOUNTS} accounts, {BLACKLIST:,} blacklist entries")
    print(f"YAML C parser (ruamel.yaml.clib): {'yes' if clib else 'no (pure Python)'}")
    print(
        f"load_environment (in-process): best {min(in_process):.3f}s, "
        f"median {statistics.median(in_process):.3f}s over {runs} runs"
    )
    print(f"reconciler validate (process): median {statistics.median(validate):.3f}s")
    print(f"reconciler --help (process):   median {statistics.median(help_times):.3f}s")


if __name__ == "__main__":
    main()
