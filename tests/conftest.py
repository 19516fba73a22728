from __future__ import annotations

import pytest

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from tests.helpers import endpoints_for, secrets_for

# real SMTP (aiosmtpd) and POP3 (dovecot) servers as fixtures: mail_tls, smtp_servers, pop3_server
pytest_plugins = ["tests.mailservers"]


def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(
        users={"admin": secrets_for()["GH_PASSWORD"]},
        endpoints=endpoints_for("Support", "Sales", "Billing", *[f"A{i}" for i in range(12)]),
    )


@pytest.fixture
def emulator(tmp_path):
    """A GREYHOUND emulator on a real 127.0.0.1 socket, with mail endpoints for common test names."""
    store = Store(tmp_path / "emulator-state.json", emulator_config())
    with RunningEmulator(store) as running:
        yield running
