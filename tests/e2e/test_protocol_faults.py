"""`apply` against an emulator that fails 20% of all requests still converges, without duplicates.

The faults are the three transient kinds: HTTP 503, a connection dropped before the request is
processed, and a lost reply (processed, then dropped) - the case where a naive client creates an
object twice. The result must equal a fault-free apply, object for object.
"""

from __future__ import annotations

from collections import Counter

from reconciler.emulator.faults import FaultConfig
from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import Store
from tests.conftest import emulator_config
from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp

NAMES = ["Support", "Sales", "Billing"]
SECRETS = secrets_for(*NAMES)
CLASSES = (
    "RpcPop3Accounts",
    "RpcSmtpAccounts",
    "RpcGroups",
    "RpcSignatures",
    "RpcFilters",
    "RpcRules",
)
TWENTY_PERCENT = FaultConfig(error_rate=0.08, drop_rate=0.06, lost_reply_rate=0.06, seed=20)


def _apply(folder, faults: FaultConfig | None):
    store = Store(folder / "state.json", emulator_config())
    with RunningEmulator(store, faults=faults) as emulator:
        # enough retries that 20% transient failures cannot exhaust them (0.2**9 per call)
        connection = {
            "url": emulator.url,
            "username": "admin",
            "password": {"env": "GH_PASSWORD"},
            "allow_http": True,
            "retries": 8,
        }
        env = make_env(
            folder / "env",
            emulator.url,
            [pop3(n) for n in NAMES],
            [smtp(n) for n in NAMES],
            greyhound=connection,
            blacklist=["noreply@marketplace.example", "@payments.example"],
        )
        applied = run_cli("apply", str(env), "--auto-approve", env=SECRETS)
        emulator.faults.configure(error_rate=0.0, drop_rate=0.0, lost_reply_rate=0.0)
        replan = run_cli("plan", str(env), "--detailed-exitcode", env=SECRETS)
        counts = dict(emulator.faults.counts)
    return applied, replan, store, counts


def _contents(store: Store) -> dict[str, Counter]:
    return {cls: Counter(o["Name"] for o in store.objects[cls].values()) for cls in CLASSES}


def test_apply_converges_under_20_percent_transient_errors_without_duplicates(tmp_path):
    faulty = tmp_path / "faulty"
    clean = tmp_path / "clean"
    applied, replan, store, counts = _apply(faulty, TWENTY_PERCENT)
    assert applied.code == 0, applied.text
    assert "Apply finished:" in applied.out and " 0 failed, 0 skipped." in applied.out
    assert replan.code == 0, replan.text  # nothing left to do
    for value in SECRETS.values():
        assert value not in applied.text + replan.text
    # the faults really happened, of every kind
    assert counts["error"] >= 3 and counts["drop"] >= 3 and counts["lost_reply"] >= 3, counts

    reference_apply, _, reference, _ = _apply(clean, None)
    assert reference_apply.code == 0, reference_apply.text
    contents = _contents(store)
    assert contents == _contents(reference)
    for cls, names in contents.items():
        assert names and set(names.values()) == {1}, (cls, names)  # no duplicates
    assert (
        store.globals["Elements.Mailzuordnung.Blacklist"]
        == reference.globals["Elements.Mailzuordnung.Blacklist"]
    )
    assert {o["Name"]: o["State"] for o in store.objects["RpcPop3Accounts"].values()} == {
        n: 1 for n in NAMES
    }
    assert store.locks == {}
