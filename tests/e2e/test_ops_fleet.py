"""Fleets: `plan` over a folder of environments, each against its own emulator on a real socket."""

from __future__ import annotations

import contextlib
import json
import re
import socket

import pytest

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import Store
from reconciler.ops.fleet import shard_of
from tests.conftest import emulator_config
from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp, write_yaml

FLEET_SIZE = 50
HEADER = re.compile(r"^=== (\S+) \(.*\) · exit (\d) · [\d.]+s ===$")


def _refusing_port(stack: contextlib.ExitStack) -> int:
    """A port bound but never listening: connections are refused, and no emulator can take it."""
    sock = stack.enter_context(socket.socket())
    sock.bind(("127.0.0.1", 0))
    return sock.getsockname()[1]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """50 environments: 49 emulators in this process (threads) and one unreachable server."""
    root = tmp_path_factory.mktemp("fleet") / "environments"
    write_yaml(root / "base" / "blacklist.yaml", {"blacklist": ["noreply@market.example"]})
    with contextlib.ExitStack() as stack:
        for i in range(1, FLEET_SIZE + 1):
            name = f"shop-{i:02d}"
            if i == 17:
                url, extra = f"http://127.0.0.1:{_refusing_port(stack)}", {"retries": 0}
            else:
                emulator = stack.enter_context(RunningEmulator(Store(None, emulator_config())))
                url, extra = emulator.url, {}
            env = make_env(
                root / name, url, [pop3("Support")], [smtp("Support")], include=["../base"]
            )
            if extra:
                write_yaml(
                    env / "environment.yaml",
                    {
                        "greyhound": {
                            "url": url,
                            "username": "admin",
                            "password": {"env": "GH_PASSWORD"},
                            "allow_http": True,
                            **extra,
                        },
                        "include": ["../base"],
                    },
                )
        yield root


def _blocks(out: str) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        match = HEADER.match(line)
        if match:
            current = match.group(1)
            assert current not in blocks, f"{current} printed twice"
            blocks[current] = []
        elif line.startswith("Fleet: "):
            current = None
        elif current is not None:
            blocks[current].append(line)
    return {name: "\n".join(lines).rstrip("\n").splitlines() for name, lines in blocks.items()}


def test_fleet_of_50_with_one_unreachable_server(fleet):
    result = run_cli("plan", str(fleet), "--detailed-exitcode", env=secrets_for("Support"))
    # one environment could not be read: the fleet fails with 1, the others still ran
    assert result.code == 1, result.text
    blocks = _blocks(result.out)
    assert sorted(blocks) == [f"shop-{i:02d}" for i in range(1, FLEET_SIZE + 1)]
    for name, lines in blocks.items():
        text = "\n".join(lines)
        others = [o for o in blocks if o != name and f"Environment {o}:" in text]
        assert not others, f"output of {others} inside the block of {name}"
        if name == "shop-17":
            assert "error: cannot connect to GREYHOUND at http://127.0.0.1:" in text
            assert "connection refused" in text
        else:
            # the plain-HTTP warning printed deep in the connection code stays inside its block
            assert lines[0].startswith("warning: using plain HTTP to http://127.0.0.1:")
            assert lines[1].startswith(f"Environment {name}: GREYHOUND 5.3.0 at http://127.0.0.1:")
            assert "  + create pop3 'Support'" in lines
            assert lines[-1] == "Plan: 17 to create, 2 to activate, 2 to verify."
    summary = result.out[result.out.index("Fleet: ") :].splitlines()
    assert summary[0].startswith("Fleet: 50 environment(s), 49 planned, 1 failed, in ")
    rows = {line.split()[0]: line for line in summary[1:] if line.startswith("  shop-")}
    assert len(rows) == FLEET_SIZE
    assert " exit 1 " in rows["shop-17"] and "connection refused" in rows["shop-17"]
    assert " exit 2 " in rows["shop-01"]
    assert "changes: 17 to create, 2 to activate, 2 to verify" in rows["shop-01"]
    assert "  skipped (no environment.yaml): " in result.out and "base" in summary[-2]
    assert summary[-1].startswith("Exit code 1: the worst over all environments")
    # blocks come in input (name) order
    assert [HEADER.match(h).group(1) for h in result.out.splitlines() if HEADER.match(h)] == sorted(
        blocks
    )


def test_shards_split_the_fleet_without_overlap(fleet):
    seen: list[str] = []
    for index in (1, 2, 3):
        result = run_cli(
            "plan",
            str(fleet),
            "--shard",
            f"{index}/3",
            "--format",
            "json",
            env=secrets_for("Support"),
        )
        doc = json.loads(result.out)
        names = [e["name"] for e in doc["environments"]]
        assert doc["shard"] == f"{index}/3"
        assert names == sorted(
            n for n in (f"shop-{i:02d}" for i in range(1, 51)) if shard_of(n, 3) == index - 1
        )
        assert result.code == (1 if "shop-17" in names else 0), result.text
        seen += names
    assert sorted(seen) == [f"shop-{i:02d}" for i in range(1, FLEET_SIZE + 1)]


def test_json_fleet_report_and_saved_plans(fleet, tmp_path):
    picked = [str(fleet / "shop-03"), str(fleet / "shop-04")]
    out_dir = tmp_path / "plans"
    result = run_cli(
        "plan", *picked, "--format", "json", "--out", str(out_dir), env=secrets_for("Support")
    )
    assert result.code == 0, result.text
    doc = json.loads(result.out)
    assert doc["exit_code"] == 0 and doc["skipped"] == []
    assert [e["name"] for e in doc["environments"]] == ["shop-03", "shop-04"]
    for env in doc["environments"]:
        assert env["error"] is None
        assert env["plan"]["environment"] == env["name"]
        assert env["plan"]["summary"]["create"] == 17
    assert sorted(p.name for p in out_dir.iterdir()) == ["shop-03.plan.json", "shop-04.plan.json"]
    saved = json.loads((out_dir / "shop-03.plan.json").read_text())
    assert saved["env_dir"] == str((fleet / "shop-03").resolve())
    for value in secrets_for("Support").values():
        assert value not in result.text
        assert value not in (out_dir / "shop-03.plan.json").read_text()


def test_worst_exit_code_wins_invalid_over_changes(tmp_path, emulator):
    root = tmp_path / "envs"
    make_env(root / "good", emulator.url, [pop3("Support")], [smtp("Support")])
    broken = make_env(root / "broken", emulator.url, [pop3("Support")], [smtp("Support")])
    write_yaml(broken / "accounts.yaml", {"pop3_accounts": [{"name": "Support", "port": "x"}]})
    result = run_cli(
        "plan", str(root), "--detailed-exitcode", "--format", "markdown", env=secrets_for("Support")
    )
    assert result.code == 3, result.text
    assert "| `broken` | 3 | invalid manifest: " in result.out
    assert "| `good` | 2 | changes: 16 to create, 2 to activate, 2 to verify |" in result.out
    assert "### GREYHOUND plan for `good`" in result.out


def test_bad_shard_and_empty_folder_are_usage_errors(tmp_path):
    (tmp_path / "nothing").mkdir()
    result = run_cli("plan", str(tmp_path / "nothing"))
    assert result.code == 3, result.text  # a lone folder without environment.yaml: the usual error
    assert "has no environment.yaml" in result.err
    result = run_cli("plan", str(tmp_path), str(tmp_path / "nothing"), "--shard", "4/3")
    assert result.code == 1
    assert "--shard '4/3': expected I/N with 1 <= I <= N" in result.err
