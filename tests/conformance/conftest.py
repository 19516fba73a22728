"""Targets of the conformance suite: the emulator over HTTPS on a real socket, and a real GREYHOUND.

The real server is used only when GREYHOUND_URL, GREYHOUND_USER and GREYHOUND_PASSWORD are set
(GREYHOUND_CA_FILE optionally trusts a self-signed certificate). The tests create objects whose
names start with `zz-conformance-` and delete them again; point them at a test server.
"""

from __future__ import annotations

import base64
import os
import secrets
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from reconciler.greyhound import protocol as P
from reconciler.greyhound.live import delete_object
from reconciler.greyhound.mapping import RPC_CLASS
from reconciler.greyhound.rpc import new_client_id
from reconciler.model.state import Kind
from tests.conformance.sync import SyncRpc

EMULATOR_PASSWORD = "conformance-Secret-9"


@dataclass
class Server:
    name: str
    url: str
    user: str
    password: str
    verify: bool | ssl.SSLContext

    def client(self, **options: Any) -> SyncRpc:
        return SyncRpc(self.url, self.user, self.password, verify=self.verify, **options)

    def raw(
        self,
        body: Any,
        *,
        user: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
    ) -> httpx.Response:
        """One POST /json exactly as given, outside our client (to see the wire format)."""
        login = f"{client_id or new_client_id()}-{user or self.user}"
        token = base64.b64encode(f"{login}:{password or self.password}".encode()).decode()
        with httpx.Client(verify=self.verify, timeout=30) as http:
            response = http.post(
                self.url + P.ENDPOINT_PATH,
                json=body,
                headers={"Authorization": f"Basic {token}"},
            )
        if response.status_code == 200 and client_id is None:
            # a throw-away Client-ID: end its session so it does not count against the limit
            token_body = {"version": "1.1", "method": "RpcUsers.Logout", "params": []}
            with httpx.Client(verify=self.verify, timeout=30) as http:
                http.post(
                    self.url + P.ENDPOINT_PATH,
                    json=token_body,
                    headers={"Authorization": f"Basic {token}"},
                )
        return response


def _real_server() -> Server | None:
    url, user, password = (os.environ.get(f"GREYHOUND_{k}") for k in ("URL", "USER", "PASSWORD"))
    if not (url and user and password):
        return None
    ca_file = os.environ.get("GREYHOUND_CA_FILE")
    verify: bool | ssl.SSLContext = ssl.create_default_context(cafile=ca_file) if ca_file else True
    return Server("real", url.rstrip("/"), user, password, verify)


@pytest.fixture(scope="session", params=["emulator", "real"])
def server(request, tmp_path_factory, mail_tls) -> Iterator[Server]:
    if request.param == "real":
        real = _real_server()
        if real is None:
            pytest.skip("real GREYHOUND: set GREYHOUND_URL, GREYHOUND_USER, GREYHOUND_PASSWORD")
        yield real
        return
    store = Store(
        tmp_path_factory.mktemp("conformance") / "state.json",
        EmulatorConfig(users={"admin": EMULATOR_PASSWORD}),
    )
    with RunningEmulator(store, tls=(mail_tls.cert_file, mail_tls.key_file)) as emulator:
        verify = ssl.create_default_context(cafile=str(mail_tls.ca_file))
        yield Server("emulator", emulator.url, "admin", EMULATOR_PASSWORD, verify)


@pytest.fixture
def rpc(server) -> Iterator[SyncRpc]:
    with server.client() as client:
        yield client


@pytest.fixture
def unique() -> str:
    """A name prefix no other test (and no real object) uses."""
    return f"zz-conformance-{secrets.token_hex(4)}"


@pytest.fixture
def cleanup(server) -> Iterator[list[tuple[Kind, int]]]:
    """Objects a test created, deleted afterwards (also on a real server)."""
    created: list[tuple[Kind, int]] = []
    yield created
    with server.client(retries=2) as client:
        for kind, object_id in reversed(created):
            try:
                client.run(client.client.call(f"{RPC_CLASS[kind]}.Unlock", object_id))
                client.run(delete_object(client.client, kind, object_id))
            except Exception:  # noqa: BLE001 - best effort: already gone is fine
                pass
