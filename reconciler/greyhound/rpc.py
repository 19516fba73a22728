"""JSON-RPC 1.1 over httpx with GREYHOUND's Client-ID Basic auth (greyhound-rpc.md §1).

One `RpcClient` per run: one random Client-ID, one connection pool. `call()` retries reads after
transport errors and HTTP 5xx with exponential backoff; a write whose answer was lost raises
`OutcomeUnknown` instead, and the helpers in live.py re-read the server before trying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import secrets
import socket
import ssl
import time
from typing import Any

import httpx

from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import (
    AuthError,
    ConnectionCheckFailed,
    GreyhoundError,
    LockedError,
    NotFoundError,
    NotLockedError,
    OutcomeUnknown,
    RpcError,
    TooManyClientsError,
    TransportError,
    one_line,
)

_FAULT_TYPES: dict[str, type[RpcError]] = {
    "not_found": NotFoundError,
    "not_locked": NotLockedError,
    "locked": LockedError,
    "check_failed": ConnectionCheckFailed,
    "too_many_clients": TooManyClientsError,
}
_LOGOUT = "RpcUsers.Logout"
log = logging.getLogger("reconciler.greyhound")
_LOGOUT_TIMEOUT = 5.0


def new_client_id() -> str:
    """One random 32-hex id per run; every request of the run reuses it (locks, connection limit)."""
    return secrets.token_hex(P.CLIENT_ID_LENGTH // 2)


def is_repeatable(method: str) -> bool:
    return method.rpartition(".")[2] in P.REPEATABLE_METHODS


def fault_error(method: str, code: int, message: str) -> RpcError:
    kind = P.FAULT_KINDS.get(code)
    return _FAULT_TYPES.get(kind, RpcError)(method, code, message)  # type: ignore[arg-type]


def _encode(text: str) -> bytes:
    try:
        return text.encode(P.AUTH_ENCODING)
    except UnicodeEncodeError:
        return text.encode("utf-8")


class _Failure(Exception):
    """One failed attempt: `transient` may succeed later; `sent` means the server may have acted."""

    def __init__(self, reason: str, *, transient: bool, sent: bool):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.sent = sent


class RpcClient:
    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        verify: bool | ssl.SSLContext = True,
        timeout: float = P.DEFAULT_TIMEOUT,
        retries: int = P.DEFAULT_RETRIES,
        backoff: float = P.BACKOFF_BASE,
        max_connections: int = 16,  # the read round sends ~8 calls at once; apply up to --parallelism
        transport: httpx.AsyncBaseTransport | None = None,  # tests only: a canned server
        client_id: str | None = None,  # resume an interrupted run's session (its locks are ours)
    ):
        self.base_url = url.rstrip("/")
        self.url = self.base_url + P.ENDPOINT_PATH
        self.username = username
        self.client_id = client_id or new_client_id()
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.requests = 0  # HTTP requests sent, retries included
        self.retried = 0
        self._ids = itertools.count(1)
        self._rng = random.Random()
        self._answered = False  # the server has accepted our login at least once
        self._logged_out = False
        self._http = httpx.AsyncClient(
            auth=httpx.BasicAuth(_encode(f"{self.client_id}-{username}"), _encode(password)),
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=min(timeout, P.CONNECT_TIMEOUT)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": "greyhound-reconciler", "Accept": "application/json"},
            cookies={P.CLIENT_COOKIE: self.client_id},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- calls ----------------------------------------------------------------------------------
    async def call(self, method: str, *params: Any) -> Any:
        """One RPC; reads are retried on transient failures, lost write answers raise OutcomeUnknown."""
        if method == _LOGOUT:
            await self.logout()
            return None
        repeatable = is_repeatable(method)
        attempts = self.retries + 1
        for attempt in range(attempts):
            started = time.monotonic()
            try:
                result = await self._once(method, list(params), self._timeout_for(method, params))
                # method names and timings only: parameters can hold passwords
                log.debug("%s %.0f ms", method, (time.monotonic() - started) * 1000)
                return result
            except _Failure as failure:
                if not failure.transient:
                    raise TransportError(failure.reason) from None
                if failure.sent and not repeatable:
                    raise OutcomeUnknown(
                        f"{failure.reason}; the server may or may not have carried out {method}"
                    ) from None
                if attempt + 1 == attempts:
                    raise TransportError(
                        f"{failure.reason} (gave up after {attempts} attempt(s))"
                    ) from None
                self.retried += 1
                delay = self.retry_delay(attempt)
                log.info("%s; retrying in %.1fs (attempt %d of %d)", failure.reason, delay,
                         attempt + 2, attempts)  # fmt: skip
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _timeout_for(self, method: str, params: tuple[Any, ...]) -> float | None:
        """CheckConnection waits for the mail server up to the item's Timeout [I]: allow for it."""
        if not method.endswith(".CheckConnection") or not params or not isinstance(params[0], dict):
            return None
        waits = params[0].get("Timeout")
        if not isinstance(waits, int) or isinstance(waits, bool) or waits <= 0:
            return None
        return max(self.timeout, waits + P.CHECK_TIMEOUT_MARGIN)

    def retry_delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so concurrent retries do not arrive together."""
        return min(P.BACKOFF_CAP, self.backoff * 2**attempt) * self._rng.uniform(0.5, 1.0)

    async def logout(self) -> None:
        """RpcUsers.Logout, once, best effort: frees the session slot and releases our locks [I]."""
        if self._logged_out or not self._answered:
            return
        self._logged_out = True
        # on failure the session expires on the server; nothing of ours depends on it
        with contextlib.suppress(_Failure, GreyhoundError):
            await self._once(_LOGOUT, [], timeout=_LOGOUT_TIMEOUT)

    async def _once(self, method: str, params: list, timeout: float | None = None) -> Any:
        request_id = next(self._ids)
        body = {"version": P.JSONRPC_VERSION, "method": method, "params": params, "id": request_id}
        self.requests += 1
        extra = {} if timeout is None else {"timeout": timeout}
        try:
            response = await self._http.post(self.url, json=body, **extra)
        except httpx.HTTPError as exc:
            raise self._transport_failure(method, exc) from None
        except (ssl.SSLError, OSError) as exc:
            raise _Failure(
                f"cannot connect to GREYHOUND at {self.base_url}: {exc}", transient=True, sent=False
            ) from None
        status = response.status_code
        if status in P.HTTP_AUTH_FAILED:
            raise AuthError(
                f"GREYHOUND at {self.base_url} refused the login of user {self.username!r} "
                f"(HTTP {status}): check greyhound.username and the password"
            )
        if status == P.HTTP_NOT_FOUND:
            raise TransportError(
                f"{self.url} not found (HTTP 404): is this a GREYHOUND server with JSON-RPC enabled?"
            )
        if status >= 500:
            raise _Failure(
                f"GREYHOUND at {self.base_url} answered HTTP {status} to {method}",
                transient=True,
                sent=True,
            )
        if status >= 400:
            raise TransportError(f"GREYHOUND at {self.base_url} answered HTTP {status} to {method}")
        self._answered = True
        return self._result(method, request_id, response)

    def _result(self, method: str, request_id: int, response: httpx.Response) -> Any:
        try:
            payload = response.json()
        except ValueError:
            raise TransportError(
                f"GREYHOUND at {self.base_url} answered {method} with something that is not JSON"
            ) from None
        if not isinstance(payload, dict):
            raise TransportError(f"GREYHOUND at {self.base_url} answered {method} with {payload!r}")
        if "id" in payload and payload["id"] != request_id:
            raise TransportError(
                f"GREYHOUND at {self.base_url} answered {method} with the id of another request "
                f"({payload['id']!r} instead of {request_id})"
            )
        fault = _fault_of(payload)
        if fault is not None:
            raise fault_error(method, *fault)
        # [I] a procedure's answer may carry `"result": null` or leave it out
        return payload.get("result")

    def _transport_failure(self, method: str, exc: httpx.HTTPError) -> _Failure:
        base = self.base_url
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            verify = _certificate_problem(exc)
            if verify:
                return _Failure(
                    f"cannot connect to GREYHOUND at {base}: TLS certificate verification failed "
                    f"({verify}); for a self-signed server set greyhound.tls.ca_file",
                    transient=False,
                    sent=False,
                )
            return _Failure(
                f"cannot connect to GREYHOUND at {base}: {_reason(exc)}", transient=True, sent=False
            )
        if isinstance(exc, httpx.TimeoutException):
            return _Failure(
                f"GREYHOUND at {base} did not answer {method} in time", transient=True, sent=True
            )
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return _Failure(
                f"GREYHOUND at {base} dropped the connection during {method}",
                transient=True,
                sent=True,
            )
        if isinstance(exc, httpx.TransportError):
            return _Failure(
                f"connection to GREYHOUND at {base} failed during {method}: {_reason(exc)}",
                transient=True,
                sent=True,
            )
        return _Failure(
            f"cannot talk to GREYHOUND at {base}: {_reason(exc)}", transient=False, sent=False
        )


def _fault_of(payload: dict[str, Any]) -> tuple[int, str] | None:
    """(code, message) of a JSON-RPC 1.1 error object or an XML-RPC style fault, else None."""
    error = payload.get("error")
    if isinstance(error, dict):
        code = error.get("code", error.get("faultCode", 0))
        message = error.get("message", error.get("faultString", ""))
    elif "faultCode" in payload:
        code, message = payload["faultCode"], payload.get("faultString", "")
    elif error is not None:
        code, message = 0, error
    else:
        return None
    try:
        number = int(code)
    except (TypeError, ValueError):
        number = 0
    return number, str(message)


def _certificate_problem(exc: BaseException) -> str | None:
    """The verification message when a connection failed on the server's certificate."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return one_line(seen.verify_message or str(seen))
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return one_line(text.split("certificate verify failed:", 1)[-1].split("(_ssl")[0])
    return None


def _os_cause(exc: BaseException) -> str | None:
    """The operating system's words for a failed connection, found in the exception chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "unknown host name"
        if isinstance(seen, TimeoutError):
            return "timed out"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        seen = seen.__cause__ or seen.__context__
    return None


def _reason(exc: BaseException) -> str:
    cause = _os_cause(exc)
    if cause:
        return cause
    text = one_line(str(exc))
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host name"
    return text or type(exc).__name__
