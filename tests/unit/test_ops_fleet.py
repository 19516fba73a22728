"""Fleet helpers: shards, discovery, the combined exit code, non-interleaved capture."""

from __future__ import annotations

import sys
import threading
from collections import Counter

import click
import pytest

from reconciler.ops.capture import ThreadOutput
from reconciler.ops.fleet import (
    FleetError,
    Shard,
    combine,
    discover,
    is_fleet,
    parse_shard,
    shard_of,
)


def _env(folder):
    folder.mkdir(parents=True)
    (folder / "environment.yaml").write_text("greyhound: {url: 'embedded:s.json'}\n")
    return folder


def test_parse_shard_accepts_i_of_n_and_rejects_the_rest():
    assert parse_shard("2/5") == Shard(2, 5)
    assert str(parse_shard("1/1")) == "1/1"
    for bad in ("0/3", "4/3", "3", "a/b", "1/0", "-1/2", ""):
        with pytest.raises(FleetError, match="expected I/N with 1 <= I <= N"):
            parse_shard(bad)


def test_shard_of_is_a_fixed_function_of_the_name():
    # SHA-256 based: the same on every runner and Python version (no PYTHONHASHSEED effect)
    assert [shard_of(n, 4) for n in ("prod", "staging", "demo", "shop-01")] == [2, 0, 0, 3]


def test_shards_partition_and_stay_balanced():
    names = [f"server-{i:03d}" for i in range(300)]
    owners = Counter()
    for name in names:
        holders = [i for i in range(1, 6) if Shard(i, 5).holds(name)]
        assert len(holders) == 1
        owners[holders[0]] += 1
    assert sorted(owners) == [1, 2, 3, 4, 5]
    assert min(owners.values()) >= 40  # 60 each on average


def test_adding_an_environment_moves_no_other():
    before = {n: shard_of(n, 7) for n in (f"env-{i}" for i in range(50))}
    after = {n: shard_of(n, 7) for n in (f"env-{i}" for i in range(51))}
    assert all(after[n] == s for n, s in before.items())


def test_combine_takes_the_worst_code():
    assert combine([]) == 0
    assert combine([0, 0]) == 0
    assert combine([0, 2, 0]) == 2
    assert combine([2, 4, 0]) == 4
    assert combine([4, 3, 2]) == 3
    assert combine([3, 1, 4, 2]) == 1
    assert combine([0, 6]) == 1  # codes plan never gives still fail the fleet


def test_discover_skips_folders_without_environment_yaml(tmp_path):
    root = tmp_path / "environments"
    for name in ("prod", "staging", "demo"):
        _env(root / name)
    (root / "base").mkdir()
    (root / ".state").mkdir()
    fleet = discover([root])
    assert [p.name for p in fleet.environments] == ["demo", "prod", "staging"]
    assert [p.name for p in fleet.skipped] == ["base"]
    # an environment named twice (folder + explicit path) is planned once
    again = discover([root, root / "prod"])
    assert [p.name for p in again.environments] == ["demo", "prod", "staging"]
    sharded = discover([root], Shard(1, 4))
    assert [p.name for p in sharded.environments] == ["demo", "staging"]
    assert sharded.outside_shard == 1


def test_discover_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FleetError, match="neither an environment"):
        discover([tmp_path / "empty"])
    with pytest.raises(FleetError, match="is not a folder"):
        discover([tmp_path / "missing"])
    _env(tmp_path / "a" / "prod")
    _env(tmp_path / "b" / "prod")
    with pytest.raises(FleetError, match="two environments are named 'prod'"):
        discover([tmp_path / "a", tmp_path / "b"])


def test_is_fleet(tmp_path):
    env = _env(tmp_path / "envs" / "prod")
    assert not is_fleet([env])
    assert is_fleet([tmp_path / "envs"])
    assert is_fleet([env, env])
    assert not is_fleet([tmp_path / "missing"])  # the single-environment path reports it


def test_thread_output_keeps_each_workers_lines_together(capsys):
    capture = ThreadOutput()
    results: dict[int, tuple[list[str], list[str]]] = {}
    barrier = threading.Barrier(4)

    def work(n: int) -> None:
        with capture.captured() as (out, err):
            barrier.wait()
            for i in range(50):
                click.echo(f"worker {n} line {i}")
                click.echo(f"worker {n} warning {i}", err=True)
        results[n] = (out, err)

    with capture.installed():
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        click.echo("main thread passes through")
    assert sys.stdout is not None
    for n, (out, err) in results.items():
        assert "".join(out) == "".join(f"worker {n} line {i}\n" for i in range(50))
        assert "".join(err) == "".join(f"worker {n} warning {i}\n" for i in range(50))
    assert capsys.readouterr().out == "main thread passes through\n"
