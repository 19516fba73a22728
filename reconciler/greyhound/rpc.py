"""JSON-RPC 1.1 over httpx with GREYHOUND's Client-ID Basic auth (greyhound-rpc.md §1)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import (
    AuthError,
    ConnectionCheckFailed,
    LockedError,
    NotFoundError,
    RpcError,
    TransportError,
)

_FAULT_TYPES = {
    P.FAULT_NOT_FOUND: NotFoundError,
    P.FAULT_LOCKED_BY_OTHER: LockedError,
    P.FAULT_CONNECTION_FAILED: ConnectionCheckFailed,
}


def new_client_id() -> str:
    """One random 32-hex id per run; every request of the run reuses it (locks, connection limit)."""
    return secrets.token_hex(P.CLIENT_ID_LENGTH // 2)


class RpcClient:
    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
        max_connections: int = 8,
    ):
        self.url = url.rstrip("/") + P.ENDPOINT_PATH
        self.client_id = new_client_id()
        self.requests = 0
        self._http = httpx.AsyncClient(
            auth=httpx.BasicAuth(f"{self.client_id}-{username}", password),
            verify=verify,
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": "greyhound-reconciler"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, *params: Any) -> Any:
        body = {"version": P.JSONRPC_VERSION, "method": method, "params": list(params)}
        self.requests += 1
        try:
            response = await self._http.post(self.url, json=body)
        except httpx.TimeoutException:
            raise TransportError(
                f"{method}: the server at {self._base()} did not answer in time"
            ) from None
        except httpx.ConnectError as exc:
            raise TransportError(
                f"cannot connect to GREYHOUND at {self._base()}: {_reason(exc)}"
            ) from None
        except httpx.TransportError as exc:
            raise TransportError(
                f"{method}: connection to {self._base()} failed: {_reason(exc)}"
            ) from None
        if response.status_code in (401, 403):
            raise AuthError(
                f"GREYHOUND at {self._base()} refused the login (HTTP {response.status_code}): "
                "check the user name and password"
            )
        if response.status_code == 404:
            raise TransportError(
                f"{self.url} not found (HTTP 404): is this a GREYHOUND server with JSON-RPC?"
            )
        if response.status_code >= 400:
            raise TransportError(f"{method}: GREYHOUND answered HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError:
            raise TransportError(f"{method}: the answer is not JSON") from None
        error = payload.get("error") if isinstance(payload, dict) else None
        if error is None and isinstance(payload, dict) and "faultCode" in payload:
            error = {"code": payload["faultCode"], "message": payload.get("faultString", "")}
        if error:
            code = int(error.get("code", 0)) if isinstance(error, dict) else 0
            message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            raise _FAULT_TYPES.get(code, RpcError)(method, code, message)
        if not isinstance(payload, dict) or "result" not in payload:
            raise TransportError(f"{method}: the answer has neither result nor error")
        return payload["result"]

    def _base(self) -> str:
        return self.url[: -len(P.ENDPOINT_PATH)]


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "TLS certificate verification failed (use greyhound.tls.ca_file for a self-signed server)"
    return text or type(exc).__name__
