"""Property-based, for real: random live states seeded into the emulator, random manifests; the
engine's apply reaches the desired state and a second plan is empty."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import Store
from reconciler.engine import Options, make_plan, run_apply
from reconciler.manifest.environment import load_environment
from tests.conftest import emulator_config
from tests.helpers import make_env, pop3, secrets_for, smtp

POOL = ["Support", "Sales", "Billing"] + [f"A{i}" for i in range(9)]
SECRETS = secrets_for(*POOL)

names = st.lists(st.sampled_from(POOL), max_size=10, unique=True)


def _seed(live_names: list[str], active: bool) -> dict:
    def account(name: str, host: str) -> dict:
        return {
            "Name": name,
            "Host": host,
            "Port": 995,
            "Encrypt": 1,
            "State": 1 if active else 0,
            "Username": f"{name.lower()}@shop.example",
        }

    return {
        "RpcPop3Accounts": [account(n, "pop.shop.example") for n in live_names],
        "RpcSmtpAccounts": [
            dict(account(n, "smtp.shop.example"), Port=587, Encrypt=2) for n in live_names
        ],
    }


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    live=names,
    desired=names,
    inactive=st.booleans(),
    want_active=st.booleans(),
    policy=st.sampled_from(["never", "immediately"]),
)
def test_apply_reaches_desired_state_and_converges(
    live, desired, inactive, want_active, policy, monkeypatch
):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "state.json", emulator_config())
        store.seed(_seed(live, active=not inactive))
        with RunningEmulator(store) as emulator:
            env_dir = make_env(
                Path(tmp) / "env",
                emulator.url,
                [
                    pop3(n, active=want_active, delete_from_server={"policy": policy})
                    for n in desired
                ],
                [smtp(n, active=want_active) for n in desired],
                prune=True,
            )
            env = load_environment(env_dir)
            options = Options(
                force=True, allow_delete_all=True, sync_passwords=True, max_change_share=1.0
            )
            code = asyncio.run(
                run_apply(env, lambda plan: plan.has_changes, lambda line: None, options)
            )
            assert code == 0
            for cls in ("RpcPop3Accounts", "RpcSmtpAccounts"):
                assert {o["Name"] for o in store.objects[cls].values()} == set(desired)
                assert store.high_water.get(cls, 0) <= 10
                assert all(
                    o["State"] == (1 if want_active else 0) for o in store.objects[cls].values()
                )
            for obj in store.objects["RpcPop3Accounts"].values():
                assert obj["Delete"] == (1 if policy == "never" else 0)
                assert obj["Password"] == SECRETS[f"PW_{obj['Name'].upper()}_POP3"]
            second = asyncio.run(make_plan(env, options))
            assert second.plan.steps == []
