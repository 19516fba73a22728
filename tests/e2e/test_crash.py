"""Kill apply after step k, for every k: re-running converges, no duplicates, caps never exceeded."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import Store
from reconciler.engine import make_plan
from reconciler.manifest.environment import load_environment
from tests.conftest import emulator_config
from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp

OLD = [f"A{i}" for i in range(10)]
KEEP, NEW = OLD[:8], ["Support", "Sales"]
SECRETS = secrets_for(*OLD, *NEW)
CRASH = "RECONCILER_TEST_CRASH_AFTER_STEP"


@pytest.fixture(scope="module")
def at_the_cap(tmp_path_factory):
    """An emulator state holding 10 inactive POP3 + 10 SMTP accounts with companions, and the
    environment that replaces two of them (prune) by two new active accounts."""
    root = tmp_path_factory.mktemp("crash")
    store = Store(root / "base-state.json", emulator_config())
    with RunningEmulator(store) as emulator:
        env = make_env(
            root / "env",
            emulator.url,
            [pop3(n, active=False) for n in OLD],
            [smtp(n, active=False) for n in OLD],
            prune=True,
        )
        assert run_cli("apply", str(env), "--auto-approve", env=SECRETS).code == 0
    make_env(
        root / "env",
        "http://placeholder",
        [pop3(n, active=False) for n in KEEP] + [pop3(n) for n in NEW],
        [smtp(n, active=False) for n in KEEP] + [smtp(n) for n in NEW],
        prune=True,
    )
    return root


def _run_with_emulator(root, tmp_path, k):
    state = tmp_path / "state.json"
    shutil.copy(root / "base-state.json", state)
    store = Store(state)
    with RunningEmulator(store) as emulator:
        env = tmp_path / "env"
        shutil.copytree(root / "env", env)
        text = (env / "environment.yaml").read_text().replace("http://placeholder", emulator.url)
        (env / "environment.yaml").write_text(text)
        crashed = run_cli("apply", str(env), "--auto-approve", env={**SECRETS, CRASH: str(k)})
        resumed = run_cli("apply", str(env), "--auto-approve", env=SECRETS)
        final = asyncio.run(make_plan(load_environment(env)))  # in-process: the same engine, faster
        return crashed, resumed, final.plan, store


def _check(k, total, crashed, resumed, final, store):
    assert crashed.code == -9, (k, crashed.text)  # really killed (SIGKILL)
    assert f"[{k:>2}/{total}]" in crashed.out
    assert resumed.code == 0, (k, resumed.text)
    if k < total:
        assert "note: the previous apply" in resumed.out, k
    assert final.steps == [], (k, [s.id for s in final.steps])
    # the passwords written before the kill were recorded (journal), so rotation stays detectable
    assert "was never written by this tool" not in resumed.out, (k, resumed.out)
    for cls in (
        "RpcPop3Accounts",
        "RpcSmtpAccounts",
        "RpcGroups",
        "RpcSignatures",
        "RpcFilters",
        "RpcRules",
    ):
        names = Counter(o["Name"] for o in store.objects[cls].values())
        assert all(count == 1 for count in names.values()), (k, cls, names)
    for cls in ("RpcPop3Accounts", "RpcSmtpAccounts"):
        assert store.high_water.get(cls, 0) <= 10, (k, cls, store.high_water)
        assert {o["Name"] for o in store.objects[cls].values()} == set(KEEP + NEW)


@pytest.mark.timeout(600)
def test_crash_after_every_step_converges(at_the_cap, tmp_path_factory, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    state = tmp_path_factory.mktemp("count")
    crashed, _resumed, _final, _store = _run_with_emulator(at_the_cap, state, 0)
    assert crashed.code == 0, crashed.text
    total = int(crashed.out.split("Apply finished: ")[1].split(" done")[0])
    assert total == 28  # 4 deletes, 4 creates, 12 companions, 4 verifies, 4 activations
    with ThreadPoolExecutor(max_workers=2) as pool:  # each k has its own emulator and folder
        futures = {
            k: pool.submit(_run_with_emulator, at_the_cap, tmp_path_factory.mktemp(f"k{k}"), k)
            for k in range(1, total + 1)
        }
        for k, future in futures.items():
            _check(k, total, *future.result())
